// A small JUnit XML writer (the de-facto format CI systems display: Jenkins, GitLab, GitHub Actions reporters).
// Pure: the caller writes the text where it wants.

/** One test case; at most one of `failure` and `skipped`. */
export interface JUnitCase {
  name: string;
  classname: string;
  /** Seconds. */
  time?: number;
  failure?: { message: string; type?: string; text?: string };
  skipped?: { message: string };
  systemOut?: string;
}

export interface JUnitSuite {
  name: string;
  /** ISO time the suite started (JUnit wants it without a zone; UTC is assumed). */
  timestamp?: Date;
  /** Seconds. */
  time?: number;
  properties?: Record<string, string>;
  cases: JUnitCase[];
}

// Characters XML 1.0 does not allow at all, even escaped (C0 controls but tab, LF and CR; lone surrogates; FFFE/FFFF).
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text safe in XML content and in double- or single-quoted attributes. */
export function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Attribute text: also keeps tabs and line breaks, which parsers would otherwise normalise to spaces. */
function attr(text: string): string {
  return xmlEscape(text).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function seconds(t: number | undefined): string {
  return (t ?? 0).toFixed(3);
}

/** The suite as a JUnit XML document (`<testsuites>` with one `<testsuite>`), counts computed from the cases. */
export function junitXml(suite: JUnitSuite): string {
  return junitXmlSuites(suite.name, [suite], suite.time);
}

function countsOf(cases: readonly JUnitCase[], time: number | undefined): string {
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => !c.failure && c.skipped).length;
  const total = time ?? cases.reduce((sum, c) => sum + (c.time ?? 0), 0);
  return `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(total)}"`;
}

/** Several suites in one document (`<testsuites>` with the totals, one `<testsuite>` each); `time` in seconds (default: the cases' sum). */
export function junitXmlSuites(name: string, suites: readonly JUnitSuite[], time?: number): string {
  const all = suites.flatMap((s) => s.cases);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="${attr(name)}" ${countsOf(all, time)}>`];
  for (const suite of suites) lines.push(...suiteLines(suite));
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function suiteLines(suite: JUnitSuite): string[] {
  const counts = countsOf(suite.cases, suite.time);
  const lines: string[] = [];
  const stamp = suite.timestamp ? ` timestamp="${suite.timestamp.toISOString().slice(0, 19)}"` : '';
  lines.push(`  <testsuite name="${attr(suite.name)}" ${counts}${stamp}>`);
  const props = Object.entries(suite.properties ?? {});
  if (props.length > 0) {
    lines.push('    <properties>');
    for (const [k, v] of props) lines.push(`      <property name="${attr(k)}" value="${attr(v)}"/>`);
    lines.push('    </properties>');
  }
  for (const c of suite.cases) {
    const open = `    <testcase name="${attr(c.name)}" classname="${attr(c.classname)}" time="${seconds(c.time)}"`;
    const inner: string[] = [];
    if (c.failure) {
      const type = c.failure.type === undefined ? '' : ` type="${attr(c.failure.type)}"`;
      inner.push(`      <failure message="${attr(c.failure.message)}"${type}>${xmlEscape(c.failure.text ?? c.failure.message)}</failure>`);
    } else if (c.skipped) {
      inner.push(`      <skipped message="${attr(c.skipped.message)}"/>`);
    }
    if (c.systemOut !== undefined) inner.push(`      <system-out>${xmlEscape(c.systemOut)}</system-out>`);
    if (inner.length === 0) lines.push(`${open}/>`);
    else lines.push(`${open}>`, ...inner, '    </testcase>');
  }
  lines.push('  </testsuite>');
  return lines;
}
