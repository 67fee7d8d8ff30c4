"""The result store's size against its budget, and pruning it now (``backend/store/cache_budget.py``)."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from backend.engine.settings import MAX_GB, MAX_KEEP_S
from backend.store.cache_budget import CacheUsage, PruneReport, usage

from ..deps import ServicesDep
from ..errors import COMMON_ERRORS, ApiError, ErrorBody

router = APIRouter(tags=["cache"], responses=COMMON_ERRORS)


class PruneIn(BaseModel):
    max_gb: float | None = Field(None, ge=0, le=MAX_GB, description="The size limit for this prune; default: the studio's "
                                                         "(ABACUS_CACHE_MAX_GB); 0: none")
    keep_recent_s: float | None = Field(None, ge=0, le=MAX_KEEP_S, description="Keep what a run used this recently; default: the "
                                                                "studio's (ABACUS_CACHE_KEEP_RECENT_S). No run goes "
                                                                "on while it prunes, so 0 is safe here")
    keep_models: bool = Field(False, description="Remove no trained model (with max_gb near 0: clear everything "
                                                 "else that was not used lately)")


@router.get("/cache", response_model=CacheUsage)
def cache_usage(services: ServicesDep) -> CacheUsage:
    """The studio's result store: its size, how much of it is trained models, its budget, the
    free space on its disk, and the last pass that removed something."""
    return usage(services.settings.cache_dir, services.settings.cache_budget(), last=services.dispatcher.last_prune)


@router.post("/cache/prune", response_model=PruneReport, responses={409: {"model": ErrorBody}})
def prune_cache(body: PruneIn, services: ServicesDep) -> PruneReport:
    """Apply the budget now (the studio does after each run): least recently used entries go
    first, trained models last, nothing used in the last ``cache_keep_recent_s``. While a run
    goes on it is a 409 (``runs_active``): the budget is applied when the last one ends."""
    budget = services.settings.cache_budget()
    if body.max_gb is not None:
        budget = budget.model_copy(update={"max_bytes": int(body.max_gb * 2**30)})
    if body.keep_recent_s is not None:
        budget = budget.model_copy(update={"keep_recent_s": body.keep_recent_s})
    report = services.dispatcher.prune(budget, keep_models=body.keep_models)
    if report is None:
        running = [run.id for run in services.runs.active()]
        raise ApiError(409, "runs_active", "runs are going on: the cache is pruned when the last one has ended"
                       + (f" ({', '.join(running[:3])})" if running else ""), params={"runs": running})
    return report
