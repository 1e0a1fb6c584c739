"""One benchmark size, measured in this (fresh) process.

    python -m benchmarks.bench_e2e --rows 100000 --out result.json [--texts distinct|pool] [--no-e2e] [--repeat N]

Order matters for the memory figures: the real ``feedback-report run`` goes first
(so ``getrusage(RUSAGE_CHILDREN)`` holds only the CLI, its papermill kernel and
their children), then the floor, then the analysis in this process with a
sampler that records the peak resident memory of this process *and its
children* (sentiment forks a ``Pool(2)``) per stage.

Inputs are generated once with :mod:`feedbacklib.sample` and cached under
``benchmarks/data/`` (git-ignored). ``--texts distinct`` (the default) makes
almost every comment distinct, as in real exports: the sample generator draws
comments from a pool of 4,000, which lets "score each distinct text once" hide
the true cost of tagging and sentiment; each row's comment is instead 1-3 pool
comments joined (their themes add up). ``--texts pool`` keeps the generator's
comments as they are.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-10"
TEXT_COLUMN = "Q3"  # the Qualtrics comment question in the sample layout
HEADER_ROWS = 3     # Qualtrics exports: names, question texts, ImportId JSON
STAGES = ("read", "clean", "themes", "sentiment", "compare", "render")
ANALYSIS = ("read", "clean", "themes", "sentiment")


# --------------------------------------------------------------------------- inputs

def input_folder(rows: int, workdir: Path, texts: str = "distinct") -> Path:
    """``workdir/qualtrics-<rows>-<texts>/`` holding one month of a Qualtrics export (cached)."""
    folder = workdir / f"qualtrics-{rows}-{texts}"
    path = folder / f"qualtrics_post_contact_survey_{MONTH}.csv"
    if path.exists():
        return folder
    from feedbacklib.sample import write_qualtrics_csv

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".partial.csv"
    t0 = time.perf_counter()
    write_qualtrics_csv(tmp, rows, seed=7, month=MONTH)
    if texts == "distinct":
        _make_texts_distinct(tmp, seed=7)
    os.replace(tmp, path)  # a killed run never leaves a half-written cached input
    print(f"generated {rows:,} rows ({texts} texts) in {time.perf_counter() - t0:.0f} s: {path}", file=sys.stderr)
    return folder


def join_comments(text: np.ndarray, *, seed: int) -> np.ndarray:
    """Each substantive comment (over 12 characters) followed by 0-2 other comments of the pool:
    ~68% distinct texts from the generator's 4,000, and their themes add up."""
    rng = np.random.default_rng(seed)
    n = len(text)
    substantive = np.array([isinstance(t, str) and len(t) > 12 for t in text], dtype=bool)
    pool = np.unique(text[substantive].astype(str))
    extra = rng.choice([0, 1, 2], size=n, p=[0.15, 0.55, 0.30])
    a, b = rng.integers(0, len(pool), n), rng.integers(0, len(pool), n)
    joined = text.copy()
    one = substantive & (extra >= 1)
    joined[one] = text[one] + " " + pool[a[one]]
    two = substantive & (extra == 2)
    joined[two] = joined[two] + " " + pool[b[two]]
    return joined


def _make_texts_distinct(path: Path, *, seed: int) -> None:
    """Rewrite the comment column: each non-blank comment becomes 1-3 pool comments joined."""
    import pyarrow.csv as pacsv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = [fh.readline() for _ in range(HEADER_ROWS)]
    import csv
    import pyarrow as pa

    names = next(csv.reader([header[0].lstrip("\ufeff")]))
    table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows_after_names=HEADER_ROWS - 1),
                           parse_options=pacsv.ParseOptions(newlines_in_values=True),
                           convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                                                strings_can_be_null=False))
    df = table.to_pandas()
    df[TEXT_COLUMN] = join_comments(df[TEXT_COLUMN].to_numpy(dtype=object), seed=seed)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(header[0].lstrip("\ufeff"))
        fh.writelines(header[1:])
        df.to_csv(fh, header=False, index=False, lineterminator="\r\n")


# --------------------------------------------------------------------------- memory

def _tree_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of ``pid`` and all its descendants (Linux /proc).

    The RSS sum counts pages a forked worker shares with its parent once per
    process, so it overstates what a pool of forked workers really uses; PSS
    (proportional set size, ``/proc/<pid>/smaps_rollup``) counts each shared
    page once in total and is the honest figure for a process tree.
    """
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                rss += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            try:
                with open(f"/proc/{p}/smaps_rollup") as fh:
                    for line in fh:
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1]) * 1024
                            break
            except OSError:
                pass
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return rss, pss


class StageMemory(logging.Handler):
    """Peak RSS and PSS (a process + its children) per pipeline stage.

    ``run_month``'s timer logs ``"<stage> ..."`` when a stage starts; this handler
    turns that into a stage boundary, and a thread samples the process tree of
    ``pid`` (default: this process).

    The sampling is not free: reading ``smaps_rollup`` walks the page tables of every
    process of the tree (a few milliseconds for a process of 2 GB), and that CPU time
    is charged to this process. ``own_cpu_s`` is the sampler thread's own CPU time
    (user + system, ``time.thread_time``) so far: a CPU figure of this process
    subtracts it, so the instrument is not counted as the pipeline's work.
    """

    def __init__(self, interval: float = 0.1, pid: int | None = None):
        super().__init__(logging.INFO)
        self.interval, self.stage, self.peaks, self.pss_peaks = interval, None, {}, {}
        self.own_cpu_s = 0.0
        self.pid = os.getpid() if pid is None else pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.endswith(" ..."):
            self.start(msg[:-4])

    def start(self, stage: str | None) -> None:
        self.stage = stage
        if stage is not None:
            self._sample()

    def _sample(self) -> None:
        stage = self.stage
        if stage is None:
            return
        rss, pss = _tree_memory(self.pid)
        self.peaks[stage] = max(self.peaks.get(stage, 0), rss)
        self.pss_peaks[stage] = max(self.pss_peaks.get(stage, 0), pss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()
            self.own_cpu_s = time.thread_time()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- measurements

def measure_floor(folder: Path) -> dict:
    """``pyarrow.csv.read_csv`` of the input + ``HashingVectorizer.transform`` of its comments."""
    import pyarrow.csv as pacsv
    from sklearn.feature_extraction.text import HashingVectorizer

    path = next(folder.glob("*.csv"))
    t0 = time.perf_counter()
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                           read_options=pacsv.ReadOptions(skip_rows_after_names=HEADER_ROWS - 1))
    t_read = time.perf_counter() - t0
    texts = table.column(TEXT_COLUMN).to_pylist()
    t1 = time.perf_counter()
    HashingVectorizer(n_features=2**20).transform([t or "" for t in texts])
    t_hash = time.perf_counter() - t1
    return {"floor_s": t_read + t_hash, "floor_read_s": t_read, "floor_hashing_s": t_hash,
            "distinct_texts": len(set(texts))}


def run_cli(folder: Path, config: Path) -> dict:
    """The real ``feedback-report run`` in a subprocess; wall time and peak RSS of the children."""
    exe = Path(sys.executable).with_name("feedback-report")
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as out:
        cmd = [str(exe), "run", "--month", MONTH, "--input", str(folder), "--config", str(config),
               "--output", out]
        t0 = time.perf_counter()
        with tempfile.TemporaryFile("w+") as out_fh, tempfile.TemporaryFile("w+") as err_fh:
            child = subprocess.Popen(cmd, stdout=out_fh, stderr=err_fh, text=True, cwd=ROOT)
            # every second: on 2 cores the sampler's page-table walks compete with the run for CPU, so a
            # finer interval lengthens the very wall time measured here (0.05 s: 61.2 s against 55.5 s
            # timed without a sampler, at 1M rows; 0.25 s: 5.8 CPU s once the run forks children of
            # 1.7 GB beside the kernel); its CPU time is reported apart
            with StageMemory(interval=1.0, pid=child.pid) as tree:
                tree.start("e2e")
                child.wait()
            seconds = time.perf_counter() - t0
            out_fh.seek(0), err_fh.seek(0)
            proc = subprocess.CompletedProcess(cmd, child.returncode, out_fh.read(), err_fh.read())
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        html = Path(out) / MONTH / "report.html"
        log = Path(out) / MONTH / "run.log"
        steps = {}
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                # run.log: "... step themes: 1.23 s", "... notebook executed in 30.12 s"
                m = re.search(r"(?:step (\w+): |(notebook) executed in )([0-9.]+) s", line)
                if m:
                    steps[m.group(1) or m.group(2)] = float(m.group(3))
        return {
            "end_to_end_s": round(seconds, 2),
            "end_to_end_ok": proc.returncode == 0,
            "end_to_end_error": None if proc.returncode == 0 else (proc.stderr or proc.stdout)[-2000:],
            "end_to_end_peak_rss_mb": round(children, 1),
            "end_to_end_peak_pss_mb": round(tree.pss_peaks.get("e2e", 0) / 2**20, 1),
            "end_to_end_peak_tree_rss_mb": round(tree.peaks.get("e2e", 0) / 2**20, 1),
            "end_to_end_steps_s": steps,
            "end_to_end_instrument_cpu_s": round(tree.own_cpu_s, 2),  # the sampler's, beside the run
            "html_bytes": html.stat().st_size if html.exists() else None,
        }


def _render_sections(result) -> tuple[int, list[str]]:
    """Every report section the notebook shows, as HTML (no kernel, no nbconvert)."""
    from feedbacklib import report

    calls = [
        lambda r: report.title_block(r, "benchmark"), report.executive_summary, report.headline_tiles,
        report.comparison_table, report.vendor_table, report.theme_chart, report.sentiment_chart,
        report.theme_trend_table, report.perception_gap_table, report.drivers_table, report.call_list,
        report.recognition, report.quotes, report.data_quality, report.method_notes,
    ]
    size, errors = 0, []
    for call in calls:
        try:
            out = call(result)
        except Exception as exc:  # the report layer is changing; a broken section must not lose the run
            errors.append(f"{getattr(call, '__name__', 'section')}: {type(exc).__name__}: {exc}")
            continue
        size += len(out._repr_html_() if hasattr(out, "_repr_html_") else str(out))
    return size, errors


def measure_pipeline(folder: Path, config: Path, engine_options: dict | None = None) -> dict:
    from feedbacklib.pipeline import run_month

    mem = StageMemory()
    plog = logging.getLogger("feedbacklib.pipeline")
    plog.setLevel(logging.INFO)
    plog.addHandler(mem)
    try:
        with mem:
            result = run_month(MONTH, folder, config, **(engine_options or {}))
            mem.start("render")
            t0 = time.perf_counter()
            sections_bytes, render_errors = _render_sections(result)
            render = time.perf_counter() - t0
            mem.start(None)
    finally:
        plog.removeHandler(mem)
    stages = dict(result.timings)
    stages["render"] = round(render, 3)
    return {
        "rows_kept": int(len(result.frame)),
        "stages_s": stages,
        "stage_peak_rss_mb": {k: round(v / 2**20, 1) for k, v in mem.peaks.items()},
        "stage_peak_pss_mb": {k: round(v / 2**20, 1) for k, v in mem.pss_peaks.items()},
        "sections_html_bytes": sections_bytes,
        "render_errors": render_errors,
        "history_months": len(result.history.months),
        "history_contact_rows": int(len(result.history.contacts)),
    }


def bench(rows: int, workdir: Path, *, texts: str = "distinct", e2e: bool = True, repeat: int = 1) -> dict:
    config = ROOT / "feedback.toml"
    os.environ.setdefault("FEEDBACK_PII_SALT", "benchmark-salt-not-secret")
    folder = input_folder(rows, workdir, texts)
    out: dict = {"rows": rows, "texts": texts, "input_bytes": sum(p.stat().st_size for p in folder.glob("*.csv"))}
    # the whole run and the floor, one after the other, ``repeat`` times: the run closest to the median
    # ratio is reported (on a shared machine the speed of both moves from minute to minute)
    pairs = []
    for _ in range(max(1, repeat) if e2e else 1):
        pairs.append(({**run_cli(folder, config), "load_1m": os.getloadavg()[0]} if e2e else {}, measure_floor(folder)))
    if e2e and len(pairs) > 1:
        out["repeats"] = [{"end_to_end_s": cli["end_to_end_s"], "floor_s": round(floor["floor_s"], 3),
                           "load_1m": round(cli["load_1m"], 2)} for cli, floor in pairs]
        pairs.sort(key=lambda p: p[0]["end_to_end_s"] / p[1]["floor_s"])
    cli, floor = pairs[len(pairs) // 2]
    out.update(cli)
    out.update(floor)
    out.update(measure_pipeline(folder, config))
    stages = out["stages_s"]
    analysis = sum(stages.get(s, 0.0) for s in ANALYSIS)
    out["analysis_s"] = round(analysis, 3)
    out["ratio_to_floor"] = round(analysis / out["floor_s"], 2)
    if out.get("end_to_end_ok"):  # the whole run (CLI, kernel, notebook, HTML) against the same floor
        out["end_to_end_ratio_to_floor"] = round(out["end_to_end_s"] / out["floor_s"], 2)
    out["floor_s"] = round(out["floor_s"], 3)
    out["rows_per_s"] = {k: round(rows / v) for k, v in stages.items() if v > 0}
    out["peak_rss_mb"] = round(max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                    *out["stage_peak_rss_mb"].values()]), 1)
    out["peak_pss_mb"] = round(max([0.0, *out["stage_peak_pss_mb"].values()]), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_e2e", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--out", type=Path, required=True, help="write this size's result (JSON) here")
    p.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "data")
    p.add_argument("--texts", choices=("distinct", "pool"), default="distinct")
    p.add_argument("--no-e2e", dest="e2e", action="store_false", help="skip the feedback-report run")
    p.add_argument("--repeat", type=int, default=1,
                   help="run the feedback-report run and the floor this many times, alternately, and report the "
                        "pair with the median ratio (default 1)")
    args = p.parse_args(argv)
    result = bench(args.rows, args.workdir, texts=args.texts, e2e=args.e2e, repeat=args.repeat)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
