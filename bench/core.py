"""The benchmark runner's vocabulary: a measured figure, repeated runs, medians, ratios, output."""

from __future__ import annotations

import json
import platform
import statistics
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import attrs

RESULTS = Path(__file__).parent / "results"


@attrs.define
class Figure:
    """One metric for one subject (ours or a peer), over several runs."""

    metric: str
    subject: str
    unit: str
    higher_is_better: bool
    runs: list[float] = attrs.field(factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")


@attrs.define
class Report:
    figures: list[Figure] = attrs.field(factory=list)
    skipped: list[str] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)  # what the run concluded (targets, the profile's breakdown)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def ratio(self, metric: str, ours: str, peer: str) -> float | None:
        a = self.find(metric, ours)
        b = self.find(metric, peer)
        if a is None or b is None or not b.median:
            return None
        return a.median / b.median

    def find(self, metric: str, subject: str) -> Figure | None:
        for figure in self.figures:
            if figure.metric == metric and figure.subject == subject:
                return figure
        return None

    def table(self) -> str:
        lines = [f"{'metric':42} {'subject':26} {'median':>14} {'unit':10} runs"]
        for f in self.figures:
            runs = ", ".join(f"{r:.4g}" for r in f.runs)
            lines.append(f"{f.metric:42} {f.subject:26} {f.median:>14.4g} {f.unit:10} [{runs}] {f.note}")
        for item in self.skipped:
            lines.append(f"skipped: {item}")
        return "\n".join(lines)

    @classmethod
    def read(cls, path: Path) -> Report:
        """A report written by `write` (to add figures measured separately, such as the soak's)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(figures=[Figure(f["metric"], f["subject"], f["unit"], f["higher_is_better"], list(f["runs"]),
                                   f.get("note", "")) for f in data["figures"]], skipped=list(data.get("skipped", [])),
                   notes=list(data.get("notes", [])))

    def to_json(self) -> dict[str, object]:
        return {
            "when": datetime.now(UTC).isoformat(),
            "python": sys.version.split()[0],
            "machine": platform.platform(),
            "figures": [
                {"metric": f.metric, "subject": f.subject, "unit": f.unit, "median": f.median, "runs": f.runs,
                 "higher_is_better": f.higher_is_better, "note": f.note}
                for f in self.figures
            ],
            "skipped": self.skipped,
            "notes": self.notes,
        }

    def write(self, stem: str = "latest") -> list[Path]:
        RESULTS.mkdir(parents=True, exist_ok=True)
        written = [RESULTS / f"{stem}.json"]
        written[0].write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")
        chart = self.chart(RESULTS / f"{stem}.png")
        if chart is not None:
            written.append(chart)
        return written

    def chart(self, path: Path) -> Path | None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return None
        metrics = list(dict.fromkeys(f.metric for f in self.figures))
        if not metrics:
            return None
        fig, axes = plt.subplots(len(metrics), 1, figsize=(9, 2.2 * len(metrics)), squeeze=False)
        for ax, metric in zip(axes[:, 0], metrics, strict=True):
            figs = [f for f in self.figures if f.metric == metric]
            values = [f.median for f in figs]
            bars = ax.barh([f.subject for f in figs], values,
                           color=["tab:blue" if f.subject.startswith("algotrendy") else "tab:gray" for f in figs])
            ax.bar_label(bars, labels=[f"{v:,.0f}" if v >= 100 else f"{v:.3g}" for v in values], fontsize=7, padding=2)
            positive = [v for v in values if v > 0]
            if positive and max(positive) / min(positive) > 20:
                ax.set_xscale("log")  # one slow peer (ccxt's 100 ms round trips) would flatten the rest
            ax.set_title(f"{metric} ({figs[0].unit}, {'higher' if figs[0].higher_is_better else 'lower'} is better)",
                         fontsize=9)
            ax.tick_params(labelsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def repeat(runs: int, measure: Callable[[], float]) -> list[float]:
    return [measure() for _ in range(runs)]
