"""CPU seconds per stage of ``run_month`` (pandas engine), peak memory, and the output digests.

    python -m benchmarks.bench_cpu --rows 1000000 [--json OUT] [--kpis OUT.json] [--themes OUT.parquet]
    python -m benchmarks.bench_cpu --input data/sample --kpis sample-kpis.json

The shared 2-core machine makes wall time meaningless under load, so each stage is
timed in CPU seconds from ``getrusage`` (this process plus every child it waited for:
the forked tagging and sentiment pools are joined inside their stage). Memory: this
process's peak RSS (``ru_maxrss``), the largest child's, and the process tree's peak
PSS sampled every 100 ms (pages a forked worker shares with its parent counted once; the
sampler thread's own CPU time is left out of the CPU figures and reported as ``instrument_cpu_s``).
The digests (``kpis.json`` bytes and the tagged frame's theme columns) say whether an
optimisation changed any output: they must match before and after.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

from benchmarks.bench_e2e import MONTH, ROOT, StageMemory, input_folder

STAGES = ("read", "clean", "themes", "sentiment", "compare")


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class StageCPU(logging.Handler):
    """CPU seconds between the pipeline's ``"<stage> ..."`` and ``"<stage> done"`` log lines,
    without the memory sampler's own (``instrument``: its thread's CPU time, counted apart)."""

    def __init__(self, instrument: StageMemory):
        super().__init__(logging.INFO)
        self.instrument = instrument
        self.cpu: dict[str, float] = {}
        self._start: dict[str, float] = {}

    def _now(self) -> float:
        return _cpu() - self.instrument.own_cpu_s

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.endswith(" ..."):
            self._start[msg[:-4]] = self._now()
        elif " done in " in msg:
            stage = msg.split(" done in ")[0]
            if stage in self._start:
                self.cpu[stage] = round(self._now() - self._start.pop(stage), 2)


def theme_digest(frame) -> str:
    """sha256 of the theme flags and the evidence, in row order."""
    cols = sorted(c for c in frame.columns if c.startswith("theme_"))
    h = hashlib.sha256()
    for c in cols:
        h.update(c.encode())
        values = frame[c]
        if values.dtype == bool:
            h.update(values.to_numpy().tobytes())
        else:
            h.update("\x00".join("<NA>" if v is None or v != v else str(v) for v in values.tolist()).encode())
    return h.hexdigest()


def measure(folder: Path, config: Path, *, kpis_out: Path | None = None) -> dict:
    from feedbacklib.pipeline import kpis_document, run_month

    mem = StageMemory()
    cpu = StageCPU(mem)
    plog = logging.getLogger("feedbacklib.pipeline")
    plog.setLevel(logging.INFO)
    plog.addHandler(cpu)
    plog.addHandler(mem)
    load_before = os.getloadavg()[0]
    c0, t0 = _cpu(), time.perf_counter()
    try:
        with mem:
            result = run_month(MONTH, folder, config, keep_rows=True)
            mem.start(None)
    finally:
        plog.removeHandler(cpu)
        plog.removeHandler(mem)
    total_cpu, wall = _cpu() - c0 - mem.own_cpu_s, time.perf_counter() - t0
    doc = json.dumps(kpis_document(result), indent=2, sort_keys=True, default=str).encode()
    if kpis_out is not None:
        kpis_out.write_bytes(doc)
    return {
        "folder": str(folder),
        "rows_kept": int(len(result.frame)),
        "cpu_s": cpu.cpu,
        "cpu_total_s": round(total_cpu, 2),
        "instrument_cpu_s": round(mem.own_cpu_s, 2),  # the memory sampler's thread, left out of the figures above
        "wall_s": round(wall, 2),
        "wall_stages_s": dict(result.timings),
        "load_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "peak_rss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_child_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "peak_tree_pss_mb": {k: round(v / 2**20, 1) for k, v in mem.pss_peaks.items()},
        "kpis_sha256": hashlib.sha256(doc).hexdigest(),
        "themes_sha256": theme_digest(result.rows if result.rows is not None else result.frame),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_cpu", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--rows", type=int, help="a generated month of this many rows (cached in benchmarks/data)")
    src.add_argument("--input", type=Path, help="an input folder (e.g. data/sample)")
    p.add_argument("--texts", choices=("distinct", "pool"), default="distinct")
    p.add_argument("--config", type=Path, default=ROOT / "feedback.toml")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--kpis", type=Path, help="write the month's kpis.json here (sorted keys)")
    args = p.parse_args(argv)
    os.environ.setdefault("FEEDBACK_PII_SALT", "benchmark-salt-not-secret")
    folder = args.input if args.input is not None else input_folder(args.rows, ROOT / "benchmarks" / "data",
                                                                      args.texts)
    out = measure(folder, args.config, kpis_out=args.kpis)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
