"""CPU seconds of the compare stage alone (``result.build_result`` on a month already read, cleaned,
tagged and scored), and the ``kpis.json`` digest it gives.

    python -m benchmarks.bench_compare --input /path/to/export-folder [--inputs-cache F.pkl] [--kpis OUT.json]

The stages before the comparisons run once; with ``--inputs-cache`` their output (what
``build_result`` receives) is kept in a pickle and reused, so the compare stage can be timed again
and again (e.g. main's code and a branch's, side by side under the same load: this 2-core machine
is shared, so CPU seconds move with the load; the load average is printed with them). The digest
(the ``kpis.json`` bytes, sorted keys) says whether a change altered any output: compare it between
runs of this script (``benchmarks.bench_cpu``'s also covers what the run adds after the comparisons,
such as the skipped files, so the two can differ).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import resource
import sys
from pathlib import Path

from benchmarks.bench_e2e import MONTH, ROOT


class _Captured(Exception):
    pass


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def compare_inputs(folder: Path, config: Path) -> dict:
    """What ``build_result`` receives for ``folder``'s report month (the pipeline stopped there)."""
    import feedbacklib.pipeline as pipeline

    seen: dict = {}
    original = pipeline.build_result

    def capture(month, cfg, taxonomy, frame, quarantine, quality, timings, bar, **kw):
        seen.update(month=month, cfg=cfg, taxonomy=taxonomy, frame=frame, quarantine=quarantine,
                    quality=quality, kw=kw)
        raise _Captured

    pipeline.build_result = capture
    try:
        pipeline.run_month(MONTH, folder, config, keep_rows=True)
    except _Captured:
        pass
    finally:
        pipeline.build_result = original
    if not seen:
        raise RuntimeError(f"{folder}: the run ended before the compare stage (no rows on the Dask workers' path?)")
    return seen


def measure(inputs: dict, *, kpis_out: Path | None = None) -> dict:
    from feedbacklib.pipeline import kpis_document
    from feedbacklib.result import build_result

    load = os.getloadavg()[0]
    c0 = _cpu()
    result = build_result(inputs["month"], inputs["cfg"], inputs["taxonomy"], inputs["frame"], inputs["quarantine"],
                          inputs["quality"], {}, None, **inputs["kw"])
    cpu = _cpu() - c0
    doc = json.dumps(kpis_document(result), indent=2, sort_keys=True, default=str).encode()
    if kpis_out is not None:
        kpis_out.write_bytes(doc)
    return {"rows": int(len(inputs["frame"])), "compare_cpu_s": round(cpu, 2),
            "load_1m_before_after": [round(load, 2), round(os.getloadavg()[0], 2)],
            "kpis_sha256": hashlib.sha256(doc).hexdigest()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", type=Path, required=True, help="an input folder (e.g. data/sample)")
    p.add_argument("--config", type=Path, default=ROOT / "feedback.toml")
    p.add_argument("--inputs-cache", type=Path, help="pickle of build_result's inputs: written once, then reused")
    p.add_argument("--kpis", type=Path, help="write the month's kpis.json here (sorted keys)")
    args = p.parse_args(argv)
    os.environ.setdefault("FEEDBACK_PII_SALT", "benchmark-salt-not-secret")
    if args.inputs_cache is not None and args.inputs_cache.exists():
        with args.inputs_cache.open("rb") as fh:
            inputs = pickle.load(fh)  # a file this script wrote (never an untrusted one)
    else:
        inputs = compare_inputs(args.input, args.config)
        if args.inputs_cache is not None:
            with args.inputs_cache.open("wb") as fh:
                pickle.dump(inputs, fh, protocol=5)
    print(json.dumps(measure(inputs, kpis_out=args.kpis), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
