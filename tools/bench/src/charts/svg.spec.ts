import { barChart, escapeXml, formatNumber, lineChart, linearTicks, logTicks } from './svg';
import { xmlProblems } from './well-formed';

/** The bars of a chart: series and value, in document order, and their drawn widths. */
const bars = (svg: string) =>
  [...svg.matchAll(/<rect class="bar" data-series="([^"]*)" data-value="([^"]*)" x="[^"]*" y="[^"]*" width="([^"]*)"/g)].map((m) => ({
    series: m[1],
    value: Number(m[2]),
    width: Number(m[3]),
  }));

describe('the well-formedness check the chart tests rely on', () => {
  it('accepts well-formed SVG and names what is wrong with broken XML', () => {
    expect(xmlProblems('<svg a="1"><g><text x="1">a &amp; b &lt; c</text></g><rect/></svg>\n')).toEqual([]);
    expect(xmlProblems('<svg><g></svg>')).toEqual(expect.arrayContaining(['</svg> closes <g>']));
    expect(xmlProblems('<svg><text>a & b</text></svg>')).toHaveLength(1);
    expect(xmlProblems('<svg><text>a < b</text></svg>').length).toBeGreaterThan(0);
    expect(xmlProblems('<svg x=1></svg>')).toEqual(['malformed tag <svg x=1>', '</svg> closes <nothing>', '0 root elements']);
    expect(xmlProblems('<svg></svg><svg></svg>')).toEqual(['2 root elements']);
    expect(xmlProblems('<svg a="1" a="2"></svg>')).toEqual(['<svg> repeats an attribute']);
  });
});

describe('chart helpers', () => {
  it('escapes text for XML, formats figures as the tables do, and picks round ticks', () => {
    expect(escapeXml('a < b & "c" > d')).toBe('a &lt; b &amp; &quot;c&quot; &gt; d');
    expect([formatNumber(3778.5), formatNumber(49.94), formatNumber(0.6357), formatNumber(17)]).toEqual(['3,779', '49.9', '0.64', '17']);
    expect(linearTicks(4300)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(linearTicks(49.08)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(logTicks(14, 3281)).toEqual([10, 100, 1000, 10000]);
  });
});

describe('barChart', () => {
  const chart = barChart({
    title: 'Latency <p50> & p99',
    subtitle: 'a subtitle',
    footer: 'npm run bench -- x',
    axisLabel: 'latency, milliseconds',
    unit: ' ms',
    scale: 'log',
    series: ['p50', 'p99'],
    groups: [
      {
        heading: '64 connections',
        rows: [
          { label: 'gateway', values: [74, 176] },
          { label: 'bare', values: [14, 51] },
        ],
        goals: [{ value: 50, label: 'goal ≤ 50 ms' }],
      },
      { heading: '256 connections', rows: [{ label: 'python', values: [null, null], missing: 'skipped: Python packages absent' }] },
    ],
  });

  it('is well-formed SVG on a white card with its title, labels, units and every figure', () => {
    expect(xmlProblems(chart)).toEqual([]);
    expect(chart).toContain('<title id="chart-title">Latency &lt;p50&gt; &amp; p99</title>');
    expect(chart).toMatch(/<rect x="0\.5" y="0\.5" width="\d+" height="\d+" rx="6" fill="#ffffff"/);
    for (const label of ['64 connections', '256 connections', 'gateway', 'bare', 'latency, milliseconds (log scale)', 'a subtitle', 'npm run bench -- x'])
      expect(chart).toContain(`>${label}</text>`);
    for (const figure of ['74 ms', '176 ms', '14 ms', '51 ms']) expect(chart).toContain(`>${figure}</text>`);
    expect(chart).not.toContain('NaN');
  });

  it('draws one bar per measured value, longer for larger values, none for a row not measured', () => {
    const drawn = bars(chart);
    expect(drawn.map((b) => [b.series, b.value])).toEqual([
      ['p50', 74],
      ['p99', 176],
      ['p50', 14],
      ['p99', 51],
    ]);
    const byValue = [...drawn].sort((a, b) => a.value - b.value);
    for (let i = 1; i < byValue.length; i++) expect(byValue[i].width).toBeGreaterThan(byValue[i - 1].width);
    expect(chart).toContain('>skipped: Python packages absent</text>');
    expect(chart.match(/skipped: Python packages absent/g)).toHaveLength(1);
  });

  it('marks a goal with a dashed line at its value, between the bars it lies between', () => {
    const goal = /<line class="goal" data-value="50" x1="([\d.]+)"/.exec(chart);
    expect(goal).not.toBeNull();
    const x = Number(goal?.[1]);
    const left = Number(/<rect class="bar"[^>]* x="([\d.]+)"/.exec(chart)?.[1]);
    const end = (value: number) => left + (bars(chart).find((b) => b.value === value)?.width ?? NaN);
    expect(x).toBeGreaterThan(end(14));
    expect(x).toBeLessThan(end(51));
    expect(chart).toContain('>goal ≤ 50 ms</text>');
  });
});

describe('lineChart', () => {
  it('draws a point with its figure for each measured value, and dashed references without points', () => {
    const svg = lineChart({
      title: 'Workers',
      xLabel: 'worker processes',
      yLabel: 'completed questions per second',
      xTicks: [1, 2, 4],
      series: [
        {
          name: 'concurrency 4',
          color: 0,
          points: [
            [1, 17],
            [2, 33],
            [4, 55.4],
          ],
        },
        {
          name: 'linear from 1 worker',
          color: 0,
          dashed: true,
          points: [
            [1, 17],
            [2, 34],
            [4, 68],
          ],
        },
      ],
    });
    expect(xmlProblems(svg)).toEqual([]);
    const points = [...svg.matchAll(/<circle class="point" data-series="([^"]*)" data-x="([^"]*)" data-value="([^"]*)" cx="([^"]*)" cy="([^"]*)"/g)];
    expect(points.map((p) => [p[1], Number(p[2]), Number(p[3])])).toEqual([
      ['concurrency 4', 1, 17],
      ['concurrency 4', 2, 33],
      ['concurrency 4', 4, 55.4],
    ]);
    // Higher values are drawn higher (smaller y), later workers further right.
    expect(points.map((p) => Number(p[5]))).toEqual([...points.map((p) => Number(p[5]))].sort((a, b) => b - a));
    expect(points.map((p) => Number(p[4]))).toEqual([...points.map((p) => Number(p[4]))].sort((a, b) => a - b));
    for (const label of ['17', '33', '55.4', 'worker processes', 'completed questions per second', 'linear from 1 worker'])
      expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('stroke-dasharray="5 4"');
  });
});
