export const STYLES = `
body { font-family: system-ui, 'DejaVu Sans', sans-serif; margin: 0 auto; max-width: 1500px; padding: 0 24px 48px; color: #1a1a1a; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 40px; }
.meta, .hint, .note { color: #555; font-size: 0.92em; }
.warning { background: #fff4e0; border-left: 4px solid #e69f00; padding: 8px 12px; }
.none { color: #777; font-style: italic; }
.best { border-left: 6px solid; padding: 4px 16px; background: #f7f7fb; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
table.sortable th { cursor: pointer; background: #f0f0f0; user-select: none; }
th[aria-sort=ascending]::after { content: ' ▲'; } th[aria-sort=descending]::after { content: ' ▼'; }
td.better { background: #e6f4ea; } td.worse { background: #fdecea; }
.tag { background: #e69f00; color: #000; border-radius: 3px; padding: 0 4px; font-size: 0.8em; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
.panels .canvas-box { position: relative; height: 300px; }
.single .canvas-box { position: relative; height: 520px; }
.heatmaps { display: flex; flex-wrap: wrap; gap: 24px; } table.heat { margin: 8px 16px 8px 0; } table.heat td { text-align: center; min-width: 70px; }
table.heat caption { font-weight: bold; text-align: left; }
details.run { border: 1px solid #ddd; margin: 6px 0; padding: 6px 10px; } details.run summary { cursor: pointer; }
.status { font-weight: bold; } .status.failed, .status.interrupted, .status.infeasible { color: #b00020; } .status.running { color: #996c00; } .status.pruned { color: #5a5a9e; }
pre { background: #f5f5f5; padding: 8px; overflow-x: auto; white-space: pre-wrap; }
table.diag { margin-top: 6px; }
`;
