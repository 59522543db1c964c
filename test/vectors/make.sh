#!/bin/sh
# Regenerates the signature vectors: the bodies and their expected signatures, computed by openssl (an
# implementation independent of onepush's). Run from anywhere: sh test/vectors/make.sh
set -eu
cd "$(dirname "$0")"
SECRET='whsec_vectors_0123456789'

# 1. unicode (multi-byte UTF-8, an emoji, combining marks)
printf '%s' '{"id":"evt_ü","data":{"subject":"Grüße — 東京 🎉 e\u0301","to":["jané@example.com"]}}' > unicode.json
# 2. empty body
: > empty.bin
# 3. trailing newline (what an editor or echo adds)
printf '%s\n' '{"id":"evt_1","type":"email.sent"}' > trailing-newline.json
# 4. 100 KB of JSON-ish text
node -e 'let s="{\"pad\":\"";while(s.length<102398)s+="abcdefghij0123456789";s=s.slice(0,102398)+"\"}";process.stdout.write(s)' > large-100k.json
# 5. binary-ish bytes: every byte value 0..255, twice (not valid UTF-8)
node -e 'const b=Buffer.alloc(512);for(let i=0;i<512;i++)b[i]=i%256;process.stdout.write(b)' > binary.bin
# 6. CRLF line endings
printf '{\r\n  "id": "evt_crlf"\r\n}\r\n' > crlf.json

{
  printf '{\n  "secret": "%s",\n  "vectors": [\n' "$SECRET"
  first=1
  for f in unicode.json empty.bin trailing-newline.json large-100k.json binary.bin crlf.json; do
    sig=$(openssl dgst -sha256 -hmac "$SECRET" < "$f" | sed 's/^.*= *//')
    bytes=$(wc -c < "$f" | tr -d ' ')
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '    { "file": "%s", "bytes": %s, "signature": "%s" }' "$f" "$bytes" "$sig"
  done
  printf '\n  ]\n}\n'
} > vectors.json
cat vectors.json
