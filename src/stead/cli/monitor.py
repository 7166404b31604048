"""``stead monitor``: reference statistics, drift, live performance and alert rules.

Each verb imports the monitoring package inside the command, keeping ``stead --help`` fast.
"""

from __future__ import annotations

import typer

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
