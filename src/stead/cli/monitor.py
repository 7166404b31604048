"""``stead monitor``: reference statistics, drift, live performance and alert rules.

Each verb imports the monitoring package inside the command, keeping ``stead --help`` fast.
"""

from __future__ import annotations

from typing import Any

import typer

from stead.cli.common import JSON_OPTION

__all__ = ["app"]

app = typer.Typer(
    help="Reference statistics, drift, live performance, alert rules, scheduled monitors and alert events.",
    no_args_is_help=True,
)


@app.command("rules")
def rules(
    deployment: list[str] = typer.Option([], "--deployment", "-d",
                                         help="Cover only this deployment (repeat for more; default: all)."),
    max_error_rate: float = typer.Option(0.05, help="Share of requests that may fail (server errors, timeouts)."),
    max_p99: float = typer.Option(0.5, help="p99 latency limit, seconds."),
    min_accuracy: float = typer.Option(0.8, help="Minimum live (and estimated) accuracy."),
    min_f1: float | None = typer.Option(None, help="Minimum live (and estimated) F1."),
    min_roc_auc: float | None = typer.Option(None, help="Minimum live (and estimated) ROC AUC."),
    max_mae: float | None = typer.Option(None, help="Maximum MAE (regression)."),
    max_rmse: float | None = typer.Option(None, help="Maximum RMSE (regression)."),
    drift_share: float | None = typer.Option(None, help="Also alert when this share of a deployment's features "
                                             "drifted."),
    window: str = typer.Option("5m", help="rate() range of the serving rules."),
    serving_for: str = typer.Option("5m", help="How long a serving condition holds before it fires."),
    monitor_for: str = typer.Option("1m", help="How long a drift or performance condition holds before it fires."),
    out: str | None = typer.Option(None, "--out", "-o", help="Write the rule file here instead of printing it."),
) -> None:
    """Prometheus alerting rules for drift, live performance, error rate and p99 latency.

    Example: stead monitor rules --deployment churn --max-p99 0.25 --out /etc/prometheus/rules/stead.yml
    """
    from stead.monitoring.rules import alert_rules, write_rules

    limits = {"accuracy": min_accuracy, "f1": min_f1, "roc_auc": min_roc_auc, "mae": max_mae, "rmse": max_rmse}
    text = alert_rules(deployments=deployment, max_error_rate=max_error_rate, max_p99=max_p99,
                       min_performance={k: v for k, v in limits.items() if v is not None}, drift_share=drift_share,
                       window=window, serving_for=serving_for, monitor_for=monitor_for)
    if out is None:
        typer.echo(text, nl=False)
        return
    path = write_rules(out, text)
    covered = ", ".join(deployment) if deployment else "every deployment"
    typer.echo(f"wrote {text.count('- alert: ')} alerting rules for {covered} to {path} "
               f"(check with: promtool check rules {path})")


# ---- reference statistics and drift -------------------------------------------------------------
def _registry_and_store() -> tuple[Any, Any]:
    """The registry client and the metadata store it works on (as ``stead deploy`` opens them)."""
    from stead.cli.common import settings, tracking_client
    from stead.registry.client import RegistryClient

    registry = RegistryClient(settings(), tracking=tracking_client())
    store = getattr(registry.backend, "store", None)
    if store is None:
        from stead.store import open_store

        store = open_store(settings().resolved_store_url)
    return registry, store


def _reading(what: str) -> Any:
    """A spinner on stderr while data is read (nothing when stderr is not a terminal)."""
    from stead.cli.output import err_console

    return err_console().status(f"reading {what}", spinner="dots")


@app.command("reference")
def reference(
    model: str = typer.Argument(..., help="Model version: churn@3, churn@production or models:/churn/3."),
    data: str | None = typer.Option(None, "--data", help="data:/customers@4, or a Parquet/CSV file (default: the "
                                    "dataset version the model's run trained on)."),
    prediction: str | None = typer.Option(None, "--prediction", help="The column holding the model's output."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Compute and store a model version's reference statistics (what drift is measured against).

    Without --data: the stored statistics, or those of the dataset version the model was trained on.

    Example: stead monitor reference churn@3 --data data:/customers@4
    """
    from stead.cli.common import settings
    from stead.monitoring import references

    registry, store = _registry_and_store()
    version = references.resolve_version(registry, model)
    if data is None and prediction is None:
        with _reading(references.training_dataset(version) or "the reference"):
            stored = references.ensure(store, version, settings=settings(), user_id=registry.user)
    else:
        source = data or references.training_dataset(version)
        if source is None:
            raise references.missing(version.name, version.version)
        with _reading(source):
            stored = references.compute_and_store(store, version.name, version.version, source,
                                                  signature=version.signature, prediction=prediction,
                                                  settings=settings(), user_id=registry.user)
    _show_reference(stored, as_json)


def _show_reference(stored: Any, as_json: bool) -> None:
    from stead.cli.output import console, print_json, print_table

    if as_json:
        print_json({**stored.summary(), "stats": stored.stats.to_json()})
        return
    rows = []
    for col in stored.stats.columns.values():
        role = "prediction" if col.name == stored.prediction else "feature"
        missing = f"{col.missing / col.rows:.1%}" if col.rows else ""
        if col.kind == "numeric":
            summary = "" if col.min is None else f"{col.min:.4g} .. {col.max:.4g}, mean {col.mean:.4g}"
        else:
            summary = ", ".join(f"{v}: {c}" for v, c in col.categories[:3]) + (" ..." if len(col.categories) > 3
                                                                                else "")
        rows.append((col.name, role, col.kind, col.dtype, missing, col.distinct, summary))
    print_table(f"reference statistics of {stored.model}/{stored.version}",
                ["column", "role", "kind", "type", "missing", "distinct", "values"], rows)
    skipped = f"; not measured: {', '.join(stored.stats.skipped)}" if stored.stats.skipped else ""
    console().print(f"from {stored.source}: {stored.rows:,} rows, {len(stored.stats.features)} features{skipped}",
                    highlight=False)


@app.command("drift")
def drift(
    reference: str = typer.Option(..., "--reference", "-r", help="churn@3 (its stored statistics), data:/customers@4 "
                                  "or a Parquet/CSV file."),
    current: str | None = typer.Option(None, "--current", "-c", help="A Parquet/CSV file or data:/customers@5."),
    deployment: str | None = typer.Option(None, "--deployment", "-d", help="Instead of --current: the requests "
                                          "this deployment answered (its prediction log)."),
    window: str = typer.Option("1h", "--window", "-w", help="With --deployment: how far back, e.g. 15m, 1h, 1d."),
    variant: str | None = typer.Option(None, "--variant", help="With --deployment: only this variant's requests."),
    drift_share: float = typer.Option(0.5, "--drift-share", help="The dataset drifts when this share of its "
                                      "features drifted."),
    fail_on_drift: bool = typer.Option(False, "--fail-on-drift", help="Exit with status 1 when the dataset drifted."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Compare current data with a reference: a test per feature and for the prediction, and a verdict.

    Example: stead monitor drift --reference churn@3 --current data/new.parquet
    """
    from stead.cli.common import settings
    from stead.errors import InvalidParameter
    from stead.monitoring import references, sources
    from stead.monitoring.drift import detect_drift

    if (current is None) == (deployment is None):
        raise InvalidParameter("Name the current data: --current FILE or data:/name@version, or --deployment NAME "
                               "(with --window)")
    registry, store = _registry_and_store()
    with _reading(reference):
        ref, ref_label = references.drift_reference(reference, store=store, registry=registry, settings=settings())
    if deployment is not None:
        from stead.artifacts.factory import open_artifact_store

        artifacts = open_artifact_store(settings().resolved_artifacts_url, settings().aws)
        with _reading(f"the prediction log of {deployment}"):
            cur = sources.deployment_window(store, artifacts, deployment, window, prediction=ref.prediction,
                                            names=ref.features, variant=variant)
    else:
        cur = sources.open_data(current, settings=settings())
    from stead.monitoring.columns import open_columns

    cols = open_columns(cur.data)
    names = list(ref.columns)
    if ref.prediction is not None and ref.prediction not in cols.names:
        names.remove(ref.prediction)  # current data without the model's output: features only
    with _reading(cur.label):
        report = detect_drift(ref, cols, drift_share=drift_share, columns=names)
    _show_drift(report, ref_label, cur.label, as_json)
    if fail_on_drift and report.dataset_drift:
        from stead.cli.output import err_console

        err_console().print(f"drift detected: {report.drifted_features} of {report.tested_features} features "
                            f"drifted (--fail-on-drift)", highlight=False)
        raise typer.Exit(1)


def _show_drift(report: Any, ref_label: str, cur_label: str, as_json: bool) -> None:
    from stead.cli.output import console, print_json, print_table

    if as_json:
        print_json({"reference": ref_label, "current": cur_label, **report.to_json(),
                    "schema_violations": [v.message for v in report.schema_violations]})
        return
    rows = []
    for f in [*report.features, *([report.prediction] if report.prediction else [])]:
        name = f"{f.column} (prediction)" if f is report.prediction else f.column
        verdict = {True: "yes", False: "no", None: f.status.replace("_", " ")}[f.drifted]
        rows.append((name, f.test or "", f.score, f.threshold, f.psi, verdict))
    print_table(f"drift: {cur_label} against {ref_label}", ["feature", "test", "score", "threshold", "psi", "drifted"],
                rows)
    out = console()
    if report.status == "no_data":
        out.print("no data: the current data has no rows, nothing was measured", highlight=False)
    else:
        verdict = "DRIFT" if report.dataset_drift else "no drift"
        share = f"{report.share_drifted:.0%}" if report.share_drifted is not None else "n/a"
        out.print(f"dataset: {verdict} ({report.drifted_features} of {report.tested_features} features drifted, "
                  f"{share}; threshold {report.drift_share:.0%}); {report.current_rows:,} current rows, "
                  f"{report.reference_rows:,} reference rows", highlight=False)
    if report.multivariate is not None and report.multivariate.error is not None:
        mv = report.multivariate
        out.print(f"multivariate (PCA reconstruction error): {mv.error:.4g}, expected {mv.lower:.4g} .. "
                  f"{mv.upper:.4g}: {'drift' if mv.drifted else 'no drift'}", highlight=False)
    for v in report.schema_violations:
        out.print(f"schema violation: {v.message}", highlight=False)


# ---- labels and live performance --------------------------------------------------------------
@app.command("labels")
def labels(
    deployment: str = typer.Argument(..., help="The deployment whose predictions the labels belong to."),
    file: str = typer.Argument(..., help="CSV, Parquet, JSON ({request_id: label} or a list of records) or JSON "
                               "lines, with request_id and label columns."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Log labels that arrived for a deployment's predictions, joined later by request id.

    Example: stead monitor labels churn labels.csv
    """
    from stead.cli.common import settings
    from stead.monitoring import log_labels

    receipt = log_labels(deployment, _read_labels(file), settings=settings())
    if as_json:
        from stead.cli.output import print_json

        print_json(receipt.to_json())
        return
    unknown = ""
    if receipt.unknown:
        shown = ", ".join(receipt.unknown_ids) + (" ..." if receipt.unknown > len(receipt.unknown_ids) else "")
        unknown = f" (not in the prediction log yet, kept for when they are: {shown})"
    typer.echo(f"logged {receipt.received} labels for {deployment}: {receipt.matched} matched, "
               f"{receipt.unknown} unknown{unknown}")


def _read_labels(file: str) -> dict[str, Any]:
    """A file of labels as {request_id: label} (a later row for the same id wins)."""
    import json
    from pathlib import Path

    from stead.errors import InvalidParameter, NotFound
    from stead.monitoring.labels import labels_from_records

    path = Path(file)
    if not path.is_file():
        raise NotFound(f"Label file {file} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        text = path.read_text()
        try:
            data = ([json.loads(line) for line in text.splitlines() if line.strip()] if suffix != ".json"
                    else json.loads(text))
        except json.JSONDecodeError as exc:
            raise InvalidParameter(f"Label file {file} is not valid JSON: {exc}") from None
        if isinstance(data, dict) and "labels" in data:
            data = data["labels"]
        return dict(data) if isinstance(data, dict) else labels_from_records(data if isinstance(data, list) else [data])
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InvalidParameter(f"Label file {file}: use .csv, .parquet, .json or .jsonl")
    import pyarrow as pa

    if suffix == ".csv":
        import pyarrow.csv as pcsv

        table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(column_types={"request_id": pa.string()}))
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    missing = [c for c in ("request_id", "label") if c not in table.column_names]
    if missing:
        raise InvalidParameter(f"Label file {file} has no {' or '.join(missing)} column; it has "
                               f"{', '.join(table.column_names)}")
    ids = [None if v is None else str(v) for v in table.column("request_id").to_pylist()]
    return labels_from_records({"request_id": i, "label": v} for i, v in zip(ids, table.column("label").to_pylist()))


@app.command("performance")
def performance(
    deployment: str = typer.Argument(..., help="The deployment to measure."),
    window: str = typer.Option("1h", "--window", "-w", help="Window length: 15m, 1h, 1d."),
    since: str = typer.Option("24h", "--since", help="How far back (a duration such as 24h or 7d) or a UTC time "
                              "(2026-12-01T00:00)."),
    until: str | None = typer.Option(None, "--until", help="End of the range (a UTC time; default now)."),
    task: str | None = typer.Option(None, "--task", help="classification or regression (default: from the "
                                    "predictions)."),
    output: str | None = typer.Option(None, "--output", help="The logged output holding the prediction (default: "
                                      "the only one, or predict)."),
    positive: str = typer.Option("1", "--positive", help="The positive class for F1, ROC AUC and estimates."),
    reference: str | None = typer.Option(None, "--reference", help="Calibrate estimates on this range instead "
                                         "(START..END, UTC times)."),
    estimate: bool = typer.Option(True, "--estimate/--no-estimate", help="Estimate (CBPE) where labels lag."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Live performance of a deployment per window and variant, from its prediction log and labels.

    Where labels lag, an estimated row (CBPE, from the logged probabilities) stands beside the
    realized one; a window without traffic or labels says no data.

    Example: stead monitor performance churn --window 1h --since 24h
    """
    import time

    from stead.cli.common import settings
    from stead.monitoring import live_performance
    from stead.monitoring.sources import parse_window

    end = _when(until) if until else time.time()
    start = _when(since) if _looks_like_time(since) else end - parse_window(since)
    ref = None
    if reference is not None:
        first, sep, last = reference.partition("..")
        if not sep:
            from stead.errors import InvalidParameter

            raise InvalidParameter(f"--reference {reference!r} must be START..END (UTC times)")
        ref = (_when(first), _when(last))
    records = live_performance(deployment, window=parse_window(window), start=start, end=end, settings=settings(),
                               task=task, output=output, positive=_value(positive), reference=ref,
                               estimate=estimate)
    if as_json:
        from stead.cli.output import print_json

        print_json([r.to_json() for r in records])
        return
    _show_performance(deployment, records)


def _show_performance(deployment: str, records: list[Any]) -> None:
    from datetime import datetime, timezone

    from stead.cli.output import print_table

    names = list(records[0].metrics) if records else ["accuracy", "f1", "roc_auc"]
    rows = []
    for r in records:
        start = datetime.fromtimestamp(r.start, timezone.utc).strftime("%Y-%m-%d %H:%M")
        kind = "estimated" if r.estimated else ("no data" if r.n == 0 else "realized")
        rows.append((start, r.variant or "", r.extra.get("rows", r.n), r.n, *(r.metrics.get(m) for m in names), kind))
    print_table(f"live performance of {deployment} (UTC windows)", ["window", "variant", "rows", "labelled", *names,
                                                                    ""], rows)


def _looks_like_time(text: str) -> bool:
    return "-" in text or ":" in text or "T" in text


def _when(text: str) -> float:
    """A UTC time (ISO 8601, ``Z`` or an offset allowed) in seconds since the epoch."""
    from datetime import datetime, timezone

    from stead.errors import InvalidParameter

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"{text!r} is not a time: write it like 2026-12-01T00:00 (UTC)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _value(text: str) -> Any:
    """``1`` -> 1, ``true`` -> True, ``yes`` -> "yes": the positive class as the labels spell it."""
    import json

    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, (int, float, bool, str)) else text


# ---- scheduled monitors and alerts ---------------------------------------------------------------
def _store() -> Any:
    from stead.cli.common import settings
    from stead.store import open_store

    return open_store(settings().resolved_store_url)


def _ago(ms: int) -> str:
    from stead.cli.output import fmt_time

    return fmt_time(ms)


def _seconds(s: float) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{int(s // size)}{unit}"
    return f"{s:g}s"


@app.command("create")
def create_monitor(
    name: str = typer.Argument(..., help="The monitor's name."),
    deployment: str = typer.Option(..., "--deployment", "-d", help="The deployment to check."),
    every: str = typer.Option("15m", "--every", help="How often: 30s, 15m, 1h, 1d."),
    window: str = typer.Option("1h", "--window", "-w", help="How far back each check looks."),
    drift_share: float = typer.Option(0.5, "--drift-share", help="The data drifts when this share of its features "
                                      "drifted."),
    min_accuracy: float | None = typer.Option(None, "--min-accuracy", help="Alert below this live accuracy."),
    min_f1: float | None = typer.Option(None, "--min-f1", help="Alert below this live F1."),
    min_roc_auc: float | None = typer.Option(None, "--min-roc-auc", help="Alert below this live ROC AUC."),
    max_mae: float | None = typer.Option(None, "--max-mae", help="Alert above this live mean absolute error."),
    max_rmse: float | None = typer.Option(None, "--max-rmse", help="Alert above this live root mean squared error."),
    on_alert: str | None = typer.Option(None, "--on-alert", help="run:FILE.py:PIPELINE (start it) or an http(s) URL "
                                        "(POST the alert as JSON)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a deployment on a schedule: drift against the served model's reference, live performance.

    The stead server runs the due monitors (stead server --no-monitors turns that off).

    Example: stead monitor create churn --deployment churn --every 15m --window 1h --on-alert run:pipeline.py:train
    """
    from stead.monitoring import monitors

    store = _store()
    made = monitors.create(store, name, deployment, every=every, window=window, drift_share=drift_share,
                           minimums={"accuracy": min_accuracy, "f1": min_f1, "roc_auc": min_roc_auc, "mae": max_mae,
                                     "rmse": max_rmse},
                           on_alert=on_alert)
    if as_json:
        from stead.cli.output import print_json

        print_json(made.to_json())
        return
    typer.echo(f"monitor {made.name}: deployment {made.deployment} every {_seconds(made.every_s)} over the last "
               f"{_seconds(made.window_s)}" + (f", on alert {made.on_alert}" if made.on_alert else ""))


@app.command("list")
def list_monitors(as_json: bool = JSON_OPTION) -> None:
    """List the monitors, with their last run.

    Example: stead monitor list
    """
    from stead.cli.output import print_json, print_table
    from stead.monitoring import monitors
    from stead.monitoring.run_monitor import latest_runs

    store = _store()
    found = monitors.list_monitors(store)
    last = {r.monitor: r for r in latest_runs(store)}
    if as_json:
        print_json([{**m.to_json(), "last_run": last[m.name].to_json() if m.name in last else None} for m in found])
        return
    limits = lambda m: ", ".join(f"{k} >= {v:g}" for k, v in m.minimums.items())  # noqa: E731
    print_table("monitors", ["name", "deployment", "every", "window", "drift share", "minimums", "on alert",
                             "last run", "status", "next due"],
                [(m.name, m.deployment, _seconds(m.every_s), _seconds(m.window_s), m.drift_share, limits(m),
                  m.on_alert or "", _ago(last[m.name].time) if m.name in last else "",
                  last[m.name].status if m.name in last else "", _ago(m.next_due)) for m in found])


@app.command("show")
def show_monitor(name: str = typer.Argument(..., help="The monitor."),
                 limit: int = typer.Option(20, "--limit", "-n", help="How many recent runs."),
                 as_json: bool = JSON_OPTION) -> None:
    """A monitor and its recent runs.

    Example: stead monitor show churn
    """
    from stead.cli.output import console, print_json, print_table
    from stead.monitoring import monitors
    from stead.monitoring.run_monitor import list_runs

    store = _store()
    monitor = monitors.get(store, name)
    runs = list_runs(store, name, limit=limit)
    if as_json:
        print_json({**monitor.to_json(), "runs": [r.to_json() for r in runs]})
        return
    console().print(f"monitor {monitor.name}: deployment {monitor.deployment} every {_seconds(monitor.every_s)} "
                    f"over {_seconds(monitor.window_s)}; next due {_ago(monitor.next_due)}", highlight=False)
    print_table(f"recent runs of {name}", ["time", "status", "rows", "drifted", "message", "report"],
                [(_ago(r.time), r.status, r.summary.get("rows", 0),
                  "" if not r.summary.get("drift") else f"{r.summary['drift']['drifted']}/{r.summary['drift']['tested']}",
                  r.summary.get("message", ""), r.report_uri or "") for r in runs])


@app.command("run")
def run_monitor_now(name: str = typer.Argument(..., help="The monitor."),
                    no_action: bool = typer.Option(False, "--no-action", help="Record no alert and start no "
                                                   "action."),
                    as_json: bool = JSON_OPTION) -> None:
    """Run a monitor now (whatever its schedule): print the summary and the report's path.

    Example: stead monitor run churn
    """
    from stead.artifacts.factory import open_artifact_store
    from stead.cli.common import settings
    from stead.cli.output import console, print_json
    from stead.monitoring import monitors
    from stead.monitoring.run_monitor import run_monitor

    store = _store()
    monitor = monitors.get(store, name)
    artifacts = open_artifact_store(settings().resolved_artifacts_url, settings().aws)
    with _reading(f"the prediction log of {monitor.deployment}"):
        run = run_monitor(settings(), store, artifacts, monitor, act=not no_action)
    if as_json:
        print_json(run.to_json())
        return
    s = run.summary
    console().print(f"{run.status}: {s.get('message', '')}", highlight=False)
    for alert in s.get("alerts", []):
        console().print(f"alert {alert}", highlight=False)
    for p in s.get("performance", []):
        kind = "estimated " if p["estimated"] else ""
        console().print(f"{kind}{p['metric']} of {p['variant']}: {p['value']:.4g} ({p['n']} rows)", highlight=False)
    console().print(f"report: {run.report_uri}", highlight=False)


@app.command("delete")
def delete_monitor(name: str = typer.Argument(..., help="The monitor.")) -> None:
    """Delete a monitor (its runs and alert events stay).

    Example: stead monitor delete churn
    """
    from stead.monitoring import monitors

    monitors.delete_monitor(_store(), name)
    typer.echo(f"deleted monitor {name}")


@app.command("alerts")
def alerts(deployment: str | None = typer.Option(None, "--deployment", "-d", help="Only this deployment's."),
           limit: int = typer.Option(20, "--limit", "-n", help="How many, newest first."),
           as_json: bool = JSON_OPTION) -> None:
    """Recent alert events: from monitor runs and from Alertmanager, with the action taken.

    Example: stead monitor alerts --deployment churn
    """
    from stead.cli.output import print_json, print_table
    from stead.monitoring.actions import list_events

    events = list_events(_store(), limit=limit, deployment=deployment)
    if as_json:
        print_json([e.to_json() for e in events])
        return
    print_table("alert events", ["time", "source", "alert", "status", "deployment", "summary", "action", "result"],
                [(_ago(e.time), e.source, e.name, e.status, e.deployment or "", e.annotations.get("summary", ""),
                  e.action or "", e.result or "") for e in events])
