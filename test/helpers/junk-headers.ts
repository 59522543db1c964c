// Signature headers that must verify as false, never throw (the Node build and the Web Crypto build alike), made
// from a good signature of the body.
export function junkHeaders(good: string): Array<[string, unknown]> {
  return [
    ['empty', ''],
    ['undefined', undefined],
    ['null', null],
    ['odd length', good.slice(0, 63)],
    ['one short', good.slice(0, 62)],
    ['one long', `${good}0`],
    ['non-hex', `${good.slice(0, 62)}zz`],
    ['double length', good + good],
    ['emoji', `${good.slice(0, 60)}🎉🎉`],
    ['whitespace around', ` ${good} `],
    ['sha256= prefix', `sha256=${good}`],
    ['base64 of the digest', Buffer.from(good, 'hex').toString('base64')],
    ['a number', 42],
    ['an object', { toString: () => good }],
  ];
}
