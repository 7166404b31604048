"""``stead monitor``: reference statistics, drift, live performance and alert rules.

Each verb imports the monitoring package inside the command, keeping ``stead --help`` fast.
"""

from __future__ import annotations

from typing import Any

import typer

from stead.cli.common import JSON_OPTION

__all__ = ["app"]

app = typer.Typer(
    help="Reference statistics, drift, live performance and alert rules.",
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
            references.get(store, version.name, version.version)  # raises, saying how to make them
            raise AssertionError("unreachable")
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
