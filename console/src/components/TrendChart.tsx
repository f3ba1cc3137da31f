import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface TrendPoint {
  at: string;
  memberCount: number;
}

/** Member count per refresh; the legend shows the values under the cursor. */
export function TrendChart({ points, from, to }: { points: TrendPoint[]; from: Date; to: Date }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current!;
    const xs = points.map((p) => new Date(p.at).getTime() / 1000);
    const ys = points.map((p) => p.memberCount);
    const width = () => Math.max(260, element.clientWidth);
    const chart = new uPlot(
      {
        width: width(),
        height: 220,
        // The chosen range, not the points' own (one point would otherwise span years).
        scales: {
          x: { time: true, range: () => [from.getTime() / 1000, to.getTime() / 1000] },
          y: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil(max * 1.15))] },
        },
        series: [
          { label: "Refreshed" },
          { label: "Members", stroke: "#2563eb", width: 2, fill: "rgba(37,99,235,0.08)", points: { show: true, size: 6 } },
        ],
        axes: [{}, { size: 60 }],
      },
      [xs, ys],
      element,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: width(), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [points, from.getTime(), to.getTime()]);
  return <div class="trend" ref={host} role="img" aria-label={`Member count over ${points.length} refreshes`} />;
}
