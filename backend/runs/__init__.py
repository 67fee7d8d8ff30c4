"""Preparing runs: the one place that turns a graph and targets into work for a worker."""
from .service import PreparedRun, RunRejected, RunService, issues_json

__all__ = ["PreparedRun", "RunRejected", "RunService", "issues_json"]
