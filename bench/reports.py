"""The monthly report pack on the dashboards benchmark's generated group: pack time, per-report overhead, memory.

On a throwaway PostgreSQL, the group of `bench/dashboards.py` (`200 × scale` stores, 3 years) is generated;
then last month's pack — every store's 月份客户投诉处理统计月报表 and 客户关系中心月报表, and the group's
集团门店对比月报 — is made through `crm.reports.service.render_report` (the worker job's service: data
gathering, templating, PDF in the child process, XLSX, files stored by hash) by two concurrent renderers
sharing a pool of two child processes (standing in for two worker processes). In the same run, each
report's finished HTML is rendered bare by WeasyPrint in the same pool, and the ratio is reported.

Targets (issue 12): whole pack < 5 minutes at scale 1 on 2 cores; each report ≤ 1.2× the bare render.

    .venv/bin/python bench/reports.py --scale 0.02     # seconds: proves it runs
    .venv/bin/python bench/reports.py                  # the real run (200 stores; long, heavy)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from crm.privacy.vault import throwaway_keys  # noqa: E402 (after the path is set)

RENDERERS = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 200 stores and of the rows")
    parser.add_argument("--samples", type=int, default=40, help="store reports whose overhead is measured")
    parser.add_argument("--repeat", type=int, default=3, help="renders of each sampled report, made and bare; best kept")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the throwaway PostgreSQL on a timeout too

    from deploy.services import start_postgres

    pg = start_postgres()
    try:
        os.environ.update(DATABASE_URL=pg.url, SECRET_KEY="0" * 64, **throwaway_keys(),
                          DEALERDESK_VAR=tempfile.mkdtemp(prefix="dealerdesk-bench-"))
        asyncio.run(_run(args.scale, args.samples, args.repeat))
    finally:
        pg.stop()


async def _run(scale: float, samples: int, repeat: int) -> None:
    from dashboards import ZONE, _generate
    from deploy.migrations import migrate

    await migrate()
    from piccolo_conf import DB

    await DB.start_connection_pool(min_size=2, max_size=10)
    try:
        started = time.monotonic()
        await _generate(os.environ["DATABASE_URL"], scale)
        today = datetime.now(ZoneInfo(ZONE)).date()  # the generator's history ends today
        print(f"generated in {time.monotonic() - started:.0f} s", flush=True)
        await _pack(today, samples, repeat)
    finally:
        await DB.close_connection_pool()


async def _pack(today, samples: int, repeat: int) -> None:
    from crm import clock
    from crm.reports import render, service
    from crm.reports.figures import KINDS, month_period
    from tenants.tables import DealerGroup, Store

    group = await DealerGroup.select(DealerGroup.id).where(DealerGroup.code == "BENCH").first()
    stores = [s["id"] for s in await Store.select(Store.id).where(Store.group == group["id"])]
    first = today.replace(day=1)
    month = f"{first.year - (first.month == 1)}-{(first.month - 2) % 12 + 1:02d}"
    wanted = [(None, "group_comparison")] + [(s, k) for s in stores for k in ("complaint_month", "cr_center_month")]
    ids = [(await service._create(group["id"], s, k, month, None))[0] for s, k in wanted]
    t = time.perf_counter()
    await asyncio.to_thread(render.start_renderer, RENDERERS)  # as the workers do at start-up
    print(f"render children started (warm forkserver) in {time.perf_counter() - t:.1f} s", flush=True)
    queue: asyncio.Queue = asyncio.Queue()
    for report_id in ids:
        queue.put_nowait(report_id)
    made: dict[int, float] = {}

    async def renderer() -> None:
        while not queue.empty():
            report_id = queue.get_nowait()
            t = time.perf_counter()
            await service.render_report(report_id, attempt=1)
            made[report_id] = time.perf_counter() - t

    peaks: dict[int, int] = {}
    sampling = asyncio.create_task(_sample_children(peaks))
    started = time.perf_counter()
    await asyncio.gather(*(renderer() for _ in range(RENDERERS)))
    pack = time.perf_counter() - started
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pack: {len(ids)} reports ({len(stores)} stores × 2 + group) in {pack:.1f} s with {RENDERERS} renderers; "
          f"in the pack p50 {statistics.median(made.values()):.3f} s per report", flush=True)
    print(f"peak memory over the pack: worker process {me:.0f} MiB, largest render child "
          f"{max(peaks.values(), default=0) / 1024:.0f} MiB ({len(peaks)} children)", flush=True)

    # A sample of the reports (the group's and every n-th store report), one at a time: each made again through
    # the job's service and its finished HTML rendered bare by WeasyPrint in the same pool, alternately, `repeat`
    # times; the ratio of the best of each is the overhead of gathering, templating, XLSX and storing (the best
    # of several takes out the render's own run-to-run variance and other processes' bursts). A second best of
    # bare renders of the same HTML, against the first, is the noise floor of that ratio.
    from crm.reports.tables import ReportRequest

    loop = asyncio.get_running_loop()
    spent = _time_the_made_path(service, render)
    breakdowns: list[dict[str, float]] = []
    step = max(1, (len(ids) - 1) // samples)
    sample = [0, *range(1, len(ids), step)]
    ratios, bare_times, serial, noise = [], [], [], []
    by_median: list[tuple[float, float]] = []
    phases: dict[str, list[float]] = {"gather": [], "html": [], "xlsx": []}
    for i in sample:
        (store_id, kind_key), report_id = wanted[i], ids[i]
        kind = KINDS[kind_key]
        t = time.perf_counter()
        actor = await service.system_scope(group["id"], store_id)
        data = await kind.gather(actor, store_id, month_period(month))
        phases["gather"].append(time.perf_counter() - t)
        t = time.perf_counter()
        html = render.html_for(kind.template, data, title=kind.title, generated_at=clock.now())
        phases["html"].append(time.perf_counter() - t)
        t = time.perf_counter()
        render.xlsx_for(data, title=kind.title, generated_at=clock.now())
        phases["xlsx"].append(time.perf_counter() - t)
        made_times, bares, parts, control = [], [], [], []
        for _ in range(repeat):
            t = time.perf_counter()
            await loop.run_in_executor(render.renderer(), render.render_pdf, html)
            bares.append(time.perf_counter() - t)
            t = time.perf_counter()
            await loop.run_in_executor(render.renderer(), render.render_pdf, html)
            control.append(time.perf_counter() - t)
            await ReportRequest.update({ReportRequest.status: "queued", ReportRequest.data_hash: ""}).where(
                ReportRequest.id == report_id)
            spent.clear()
            t = time.perf_counter()
            await service.render_report(report_id, attempt=1)
            made_times.append(time.perf_counter() - t)
            parts.append(dict(spent))
        serial.append(min(made_times))
        bare_times.append(min(bares))
        ratios.append(serial[-1] / bare_times[-1])
        noise.append(min(control) / bare_times[-1])
        by_median.append((statistics.median(made_times) / statistics.median(bares),
                          statistics.median(control) / statistics.median(bares)))
        breakdowns.append({"bare": bare_times[-1], "made": serial[-1], **parts[made_times.index(serial[-1])]})
    sampling.cancel()
    render.shutdown_renderer()
    print(f"per report, {len(sample)} sampled, one at a time (best of {repeat}): made p50 {statistics.median(serial):.3f} s, "
          f"bare WeasyPrint p50 {statistics.median(bare_times):.3f} s; ratio made/bare p50 "
          f"{statistics.median(ratios):.2f}× p95 {statistics.quantiles(ratios, n=20)[18]:.2f}× "
          f"max {max(ratios):.2f}× (group report {ratios[0]:.2f}×)", flush=True)
    print(f"noise floor, the same HTML's bare render against itself (a second best of {repeat}, same run): p50 "
          f"{statistics.median(noise):.2f}× p95 {statistics.quantiles(noise, n=20)[18]:.2f}× max {max(noise):.2f}×",
          flush=True)
    for name, values in (("made/bare", [m for m, _ in by_median]), ("noise floor", [c for _, c in by_median])):
        print(f"  by the median of {repeat} instead of the best: {name} p50 {statistics.median(values):.2f}× p95 "
              f"{statistics.quantiles(values, n=20)[18]:.2f}× max {max(values):.2f}×", flush=True)
    print("the made path of the slowest tenth by ratio (ms; the XLSX thread overlaps the PDF):", flush=True)
    worst = sorted(range(len(ratios)), key=ratios.__getitem__)[-max(1, len(ratios) // 10):]
    for i in reversed(worst):
        print(f"  {ratios[i]:.2f}× " + ", ".join(f"{k} {v * 1000:.0f}" for k, v in breakdowns[i].items()), flush=True)
    print("phases p50 (the XLSX overlaps the PDF in the job): "
          + ", ".join(f"{name} {statistics.median(times) * 1000:.0f} ms" for name, times in phases.items()), flush=True)
    print(f"peak memory over the run: largest render child {max(peaks.values(), default=0) / 1024:.0f} MiB "
          f"({len(peaks)} children)", flush=True)


def _time_the_made_path(service, render) -> dict[str, float]:
    """Times the parts of `render_report` (gathering, PDF, XLSX, storing, telling subscribers) for the sampled
    reports' breakdown, by wrapping the functions it calls; returns the dict each run's times are added to."""
    import dataclasses
    import functools

    spent: dict[str, float] = {}

    def timed(name, function):
        if asyncio.iscoroutinefunction(function):
            @functools.wraps(function)
            async def timed_call(*args, **kwargs):
                t = time.perf_counter()
                try:
                    return await function(*args, **kwargs)
                finally:
                    spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
        else:
            @functools.wraps(function)
            def timed_call(*args, **kwargs):
                t = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
        return timed_call

    for name in ("html_for", "xlsx_for", "store_report_files"):
        setattr(render, name, timed(name, getattr(render, name)))
    start_pdf = render.start_pdf

    async def timed_start_pdf(html):  # from the hand-over to the PDF's arrival
        t = time.perf_counter()
        rendering = await start_pdf(html)
        spent["pdf_handed_over"] = time.perf_counter() - t
        rendering.add_done_callback(lambda _: spent.__setitem__("pdf", time.perf_counter() - t))
        return rendering

    render.start_pdf = timed_start_pdf
    service._tell_subscribers = timed("tell_subscribers", service._tell_subscribers)
    service.KINDS = {key: dataclasses.replace(kind, gather=timed("gather", kind.gather))
                     for key, kind in service.KINDS.items()}
    return spent


async def _sample_children(peaks: dict[int, int]) -> None:
    """The render children's peak resident memory (VmHWM, KiB), read while they live: they are the forkserver's
    children, not this process's, so RUSAGE_CHILDREN does not see them."""
    from crm.reports import render

    while True:
        for pid in list(getattr(render.renderer(), "_processes", {}) or {}):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
            peaks[pid] = max(peaks.get(pid, 0), hwm)
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    main()
