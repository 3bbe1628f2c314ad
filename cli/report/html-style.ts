// The report's CSS and script, inlined: the file is opened offline, from a CI artifact.
export const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.2em; margin: 1.6em 0 .3em; color: #b31d28; }
h2.pass { color: #22863a; }
.summary { color: #444; margin: 0 0 1em; }
.msg { font-weight: 600; margin: .2em 0; }
.note { color: #555; margin: .1em 0; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: .6em .8em; margin: .4em 0; overflow-x: auto; }
.legend { margin: .6em 0; font-size: 12px; color: #444; }
.legend span { margin-right: 1.2em; }
.seq { display: grid; border: 1px solid #d0d7de; font: 12px/1.3 ui-monospace, Menlo, Consolas, monospace; }
.seq > div { min-height: 1.4em; }
.hd { position: sticky; top: 0; z-index: 2; background: #24292f; color: #fff; font-weight: 600; padding: .35em .5em; text-align: center; }
.st { color: #57606a; text-align: right; padding: .15em .5em; border-right: 1px solid #d0d7de; }
.st.hd { color: #fff; }
.life { position: relative; padding: .15em .4em; background: linear-gradient(#c8d1da, #c8d1da) center / 2px 100% no-repeat; }
.box { position: relative; z-index: 1; background: #ddf4ff; border: 1px solid #54aeff; border-radius: 4px; padding: .1em .35em; word-break: break-word; }
.ev { display: inline-block; margin: .1em 0 0 .35em; padding: 0 .3em; border-radius: 3px; font-size: 11px; }
.ev.acq { background: #dafbe1; color: #116329; border: 1px solid #4ac26b; }
.ev.rel { background: #eaeef2; color: #424a53; border: 1px solid #afb8c1; }
.ev.viol { background: #ffebe9; color: #b31d28; border: 1px solid #ff8182; font-weight: 700; }
.ev.warn { background: #fff8c5; color: #7d4e00; border: 1px solid #d4a72c; }
.ev.hl { outline: 2px solid #8250df; }
.hop { min-height: .9em !important; padding: 0; }
.hop::after { content: ""; position: absolute; top: 50%; border-top: 2px dashed #8c959f; }
.hop.pre::after { border-top-color: #e16f24; }
.hop.mid::after { left: 0; right: 0; }
.hop.from.r::after, .hop.to.l::after { left: 50%; right: 0; }
.hop.from.l::after, .hop.to.r::after { left: 0; right: 50%; }
.hop.to::before { position: absolute; top: 50%; left: 50%; transform: translate(-50%, -52%); font-size: 10px; color: #8c959f; z-index: 1; }
.hop.to.r::before { content: "▶"; }
.hop.to.l::before { content: "◀"; }
.hop.pre.to::before { color: #e16f24; }
.hop-st { font-size: 10px; padding: 0 .5em; line-height: .9em; }
.hop-st.pre { color: #e16f24; font-weight: 600; }
.bad { background-color: #ffebe9; }
.life.bad { background: linear-gradient(#c8d1da, #c8d1da) center / 2px 100% no-repeat, #ffebe9; }
.st.bad { color: #b31d28; font-weight: 700; border-left: 4px solid #cf222e; }
.bad .box { background: #ffcecb; border: 2px solid #cf222e; }
.named { background-color: #fbefff; }
.life.named { background: linear-gradient(#c8d1da, #c8d1da) center / 2px 100% no-repeat, #fbefff; }
.st.named { color: #8250df; font-weight: 700; border-left: 4px solid #8250df; }
.named .box { border: 2px solid #8250df; }
.op { position: relative; z-index: 1; font-weight: 600; color: #0a3069; background: #fff; border: 1px dashed #54aeff; border-radius: 4px; padding: 0 .35em; }
.op.end { font-weight: 400; color: #57606a; border-color: #afb8c1; }
.op-st { color: #54aeff; }
.kstack { margin-top: .2em; padding: .1em .3em; background: #8250df; color: #fff; border-radius: 3px; font-size: 11px; }
.box[data-stack] { cursor: help; }
.endcheck { padding: .2em .5em; color: #b31d28; font-weight: 600; }
`;

/** Point at a lock event: every event of the same lock, in every lane, lights up. */
export const SCRIPT = `
document.querySelectorAll('.seq').forEach(function (seq) {
  seq.addEventListener('mouseover', function (e) {
    var lock = e.target.getAttribute && e.target.getAttribute('data-lock');
    seq.querySelectorAll('.ev.hl').forEach(function (x) { x.classList.remove('hl'); });
    if (lock) seq.querySelectorAll('.ev').forEach(function (x) { if (x.getAttribute('data-lock') === lock) x.classList.add('hl'); });
  });
});
`;
