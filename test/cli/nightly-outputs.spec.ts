import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { propertyNames } from '../../properties/index.ts';
import { cowCampaign } from './cow-campaign.ts';
import { lastJson, mmfuzz } from './helpers.ts';
import { CHROMIUM, screenshot } from './chromium.ts';
import { decodePng } from './png.ts';
import { findAll, parseXml } from './xml.ts';

/** x positions of the vertical lines (the lanes' lifelines) of this colour that run down most of rows y0..y1. */
function verticalLines(png: ReturnType<typeof decodePng>, rgb: readonly number[], y0: number, y1: number): number[] {
  const near = (x: number, y: number): boolean => png.rgb(x, y).every((c, i) => Math.abs(c - rgb[i]!) <= 6);
  const xs: number[] = [];
  for (let x = 0; x < png.width; x++) {
    let n = 0;
    for (let y = y0; y < y1; y++) if (near(x, y)) n++;
    if (n > (y1 - y0) * 0.6) xs.push(x);
  }
  // A 2-pixel line is one line.
  return xs.filter((x, i) => i === 0 || x - xs[i - 1]! > 3);
}

describe('cli: nightly outputs (--summary, --junit, --html, replay --html)', function () {
  this.timeout(300_000);
  let tmp: string;
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'mmfuzz-outputs-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('--summary is the --json result, with the properties checked', async () => {
    const c = await cowCampaign();
    const s = JSON.parse(readFileSync(c.summary, 'utf8'));
    assert.deepEqual(s.properties, propertyNames);
    delete s.properties;
    assert.deepEqual(s, c.json);
  });

  it('--junit parses, has one testcase per property, and a failure carries the repro as text', async () => {
    const c = await cowCampaign();
    const xml = parseXml(readFileSync(c.junit, 'utf8'));
    const cases = findAll(xml, 'testcase');
    assert.deepEqual(cases.map((t) => t.attrs.name).sort(), [...propertyNames].sort());
    const failed = cases.filter((t) => t.children.some((x) => x.name === 'failure'));
    assert.deepEqual(failed.map((t) => t.attrs.name).sort(), [...new Set((c.json.violations as { property: string }[]).map((v) => v.property))].sort());
    const cow = failed.find((t) => t.attrs.name === 'data-integrity')!.children[0]!;
    assert.match(cow.attrs.message!, /returned 0; allowed: \{\d+\}/);
    for (const part of [/^VIOLATION data-integrity: /m, /^program:\n {2}P0\.T0: /m, /^schedule: (\d+:\d+|\(default order\))/m, /^interleaving.*:\n.*P0\.T0 /m]) assert.match(cow.text, part);
    assert.equal(xml.attrs.failures, String(failed.length));
  });

  /** The section of an HTML report that shows `property`, and its lanes' names. */
  function section(html: string, property: string): { text: string; lanes: string[] } {
    const text = html.split('<section ').find((x) => x.includes(`<h2>VIOLATION ${property}</h2>`));
    assert.ok(text, `no section for ${property}`);
    return { text, lanes: [...text.matchAll(/<div class="hd lane">([^<]*)<\/div>/g)].map((m) => m[1]!) };
  }

  /** The corpus entry of the COW bug, and its interleaving's tasks as `replay --json` gives them. */
  async function cowEntry(): Promise<{ file: string; tasks: string[] }> {
    const c = await cowCampaign();
    const file = join(c.corpus, readdirSync(c.corpus).find((f) => f.startsWith('data-integrity-'))!);
    const r = await mmfuzz('replay', file, '--json');
    return { file, tasks: (lastJson(r.out).interleaving as { tasks: string[] }).tasks };
  }

  it('--tap is KTAP: a plan, ok for each property that held, not ok with the repro for the one that broke', async () => {
    const c = await cowCampaign();
    const lines = readFileSync(c.tap, 'utf8').trimEnd().split('\n');
    assert.equal(lines[0], 'KTAP version 1');
    const plan = lines.find((l) => /^1\.\.\d+$/.test(l))!;
    const results = lines.filter((l) => /^(not )?ok \d+ /.test(l));
    assert.equal(results.length, Number(plan.slice(3)));
    assert.deepEqual(results.filter((l) => l.startsWith('not ok')).map((l) => l.split(' ').pop()), ['data-integrity']);
    assert.ok(lines.some((l) => /^# VIOLATION data-integrity: /.test(l)));
  });

  it('--html is one offline file: each repro with its message, program, and interleaving as lanes', async () => {
    const c = await cowCampaign();
    const html = readFileSync(c.html, 'utf8');
    assert.doesNotMatch(html, /\b(src|href)="(?!#)|url\(|@import|https?:\/\//, 'nothing is fetched');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    for (const v of c.json.violations as { property: string; message: string }[]) assert.ok(html.includes(`<h2>VIOLATION ${v.property}</h2>\n<p class="msg">`), v.property);
    const cow = section(html, 'data-integrity');
    assert.match(cow.text, /<p class="msg">P\d\.T\d read .* returned 0; allowed: \{\d+\}<\/p>/);
    assert.match(cow.text, /<pre class="program">P0\.T0: .*mmap r0/);
    assert.deepEqual(cow.lanes, (await cowEntry()).tasks);
    // The id depends on what the machine allocated first (mm#2 in the repro of a zero-page machine).
    assert.match(cow.text, /class="ev acq" data-lock="mmap_lock\(mm#\d+\)"/);
    assert.match(cow.text, /class="ev rel" data-lock=/);
    assert.match(cow.text, /class="st bad" id="violation-\d+"/);
  });

  it('replay FILE --html OUT draws a corpus entry; the exit code is the replay\'s', async () => {
    const { file, tasks } = await cowEntry();
    const out = join(tmp, 'replay', 'r.html');
    const r = await mmfuzz('replay', file, '--html', out);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /^VIOLATION data-integrity: /m);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /<title>mmfuzz replay .*data-integrity-/);
    assert.deepEqual(section(html, 'data-integrity').lanes, tasks);
    assert.match(html, /class="st bad" id="violation-1"/);
  });

  it('the HTML report renders in headless Chromium with its lanes (screenshot)', async function () {
    if (!existsSync(CHROMIUM)) this.skip(); // `apt-get install -y chromium` (.ci/run does): no browser, no screenshot
    const c = await cowCampaign();
    const png = join(tmp, 'report.png');
    screenshot(c.html, png);
    assert.ok(statSync(png).size > 20_000, `a ${statSync(png).size}-byte screenshot is too small to show a report`);
    const img = decodePng(readFileSync(png));
    assert.deepEqual([img.width, img.height], [1400, 900]);
    // The lane header: a dark band (#24292f) across most of the width.
    const header = Array.from({ length: img.height }, (_, y) => y).find((y) => {
      let dark = 0;
      for (let x = 0; x < img.width; x++) if (img.rgb(x, y).every((v, i) => Math.abs(v - [0x24, 0x29, 0x2f][i]!) <= 4)) dark++;
      return dark > img.width * 0.8;
    });
    assert.ok(header !== undefined, 'no lane header in the screenshot');
    // Below it, the lanes' lifelines (#c8d1da) run down the page: hidden behind the boxes of a lane that runs, visible in the others.
    const lanes = verticalLines(img, [0xc8, 0xd1, 0xda], header + 40, img.height - 10);
    const tasks = [...readFileSync(c.html, 'utf8').matchAll(/<div class="hd lane">/g)].length;
    assert.ok(lanes.length >= 2 && lanes.length <= tasks, `${lanes.length} lifelines for ${tasks} lanes`);
  });
});
