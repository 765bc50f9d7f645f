"""通报 rendering cost: HTML, XLSX and PDF of a synthetic audit run of N devices × 13 rules
(1 in 20 results a failure with two evidence lines, 1 in 50 devices unreadable). Prints
seconds and output sizes per format. Figures only, no asserts.

    python bench/report_bench.py              # N = 100 and 1000
    GOVNET_BENCH_SIZES=300 python bench/report_bench.py
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from govnet.checks.model import AuditReport, Finding, Run
from govnet.core.vocabulary import Evidence, Severity, Status, Text
from govnet.inventory.labels import Labels
from govnet.report.audit import to_html
from govnet.report.bulletin import build
from govnet.report.pdf import engines, html_to_pdf
from govnet.report.workbook import to_xlsx

SEVERITIES = [Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.CRITICAL]


def synthetic(n: int) -> AuditReport:
    findings = []
    for d in range(n):
        unit = f"unit-{d % 40}"
        for r in range(13):
            if d % 50 == 7:
                status, evidence = Status.ERROR, ()
            elif (d * 13 + r) % 20 == 0:
                status = Status.FAIL
                evidence = (
                    Evidence("telnet server enable", 15, "must not match ^telnet$"),
                    Evidence("protocol inbound all", 191, "must not match ^protocol$"),
                )
            else:
                status, evidence = Status.PASS, (Evidence("stelnet server enable", 16),)
            findings.append(
                Finding(
                    f"sw-{d:05d}",
                    "internal" if d % 2 else "external",
                    f"site-{d % 10}",
                    unit,
                    f"rule-{r}",
                    f"control.{r}",
                    SEVERITIES[r % 4],
                    status,
                    evidence,
                    "timeout: no answer" if status is Status.ERROR else "",
                    "L3-CES1-03",
                    "huawei",
                    Text(f"Rule {r}", f"规则 {r}"),
                    Text("fix it", "整改"),
                )
            )
    start = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)
    run = Run("audit-bench", start, start + timedelta(minutes=4), ["mlps2-baseline"], findings)
    units = {f"unit-{i}": (f"单位{i}", f"Unit {i}") for i in range(40)}
    return AuditReport(run, labels=Labels(units=units))


def main() -> None:
    sizes = [int(x) for x in os.environ.get("GOVNET_BENCH_SIZES", "100,1000").split(",")]
    print(f"PDF engines here: {', '.join(engines()) or 'none'}")
    for n in sizes:
        report = synthetic(n)
        fails = report.run.counts()["fail"]
        t0 = time.perf_counter()
        html = to_html(report, "zh")
        t1 = time.perf_counter()
        xlsx = to_xlsx(build(report, "zh", report.labels))
        t2 = time.perf_counter()
        line = (
            f"N={n:5d} findings={len(report.run.findings):6d} fail={fails:5d}  "
            f"html {t1 - t0:6.2f} s {len(html) / 1e6:5.2f} MB  "
            f"xlsx {t2 - t1:6.2f} s {len(xlsx) / 1e6:5.2f} MB"
        )
        if engines():
            pdf = html_to_pdf(html)
            line += f"  pdf {time.perf_counter() - t2:6.2f} s {len(pdf) / 1e6:5.2f} MB"
        print(line, flush=True)


if __name__ == "__main__":
    main()
