"""The flows the scheduled deployments run (`employment-eval serve`, flows/schedules.py).

Their only parameters are the as-of date and `force`: the paths (raw, marts, work, rules, the
year-end output folder) and the follow-up lists kept are bound when `serve` starts, passed to
the runs it starts through the environment of its own process (`Bound`), never through
Prefect. Anyone who can create a flow run through the Prefect API can therefore choose only
the date and whether to rebuild: a run carrying any other parameter (`work_path`, `raw_dir` …,
whether from the API call or from a changed deployment) never runs: Prefect refuses to call
the flow with a parameter it does not have (its process exits before any code of ours runs —
nothing is read or written, no lock is taken), and `refused_in_chinese` then marks the run
Failed, saying why in Chinese, naming the parameters, never their values. A bad date or `force`
value, and a run not started by `serve` (no bound paths in its environment), are refused by
`ServedFlow.validate_parameters`, also before the flow's code runs."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import Flow

from employment_eval.options import DEFAULT_KEEP_FOLLOWUP

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun
    from prefect.states import State

ENVIRONMENT = "EMPLOYMENT_EVAL_SERVED"  # the bound paths, as JSON, in the serving process
ALLOWED = ("as_of", "force")
SHOWN = 5  # refused parameter names shown


class ParametersRefused(Exception):
    """A served run asked for something only `serve` decides (one Chinese paragraph)."""


@dataclass(frozen=True)
class Bound:
    """What `serve` fixed at its start, for every run it serves."""

    raw_dir: Path
    marts_path: Path
    work_path: Path
    rules_dir: Path | None
    out_dir: Path
    keep_followup: int = DEFAULT_KEEP_FOLLOWUP

    def to_environment(self) -> str:
        return json.dumps(
            {
                "raw_dir": str(self.raw_dir),
                "marts_path": str(self.marts_path),
                "work_path": str(self.work_path),
                "rules_dir": str(self.rules_dir) if self.rules_dir else None,
                "out_dir": str(self.out_dir),
                "keep_followup": self.keep_followup,
            }
        )

    @classmethod
    def from_environment(cls) -> Bound:
        text = os.environ.get(ENVIRONMENT)
        if not text:
            raise ParametersRefused(
                "这个流程只能由 employment-eval serve 执行（文件位置在 serve 启动时确定），"
                "本次运行不是由它启动的，已拒绝：未读取、未写入任何文件。"
            )
        data = json.loads(text)
        return cls(
            raw_dir=Path(data["raw_dir"]),
            marts_path=Path(data["marts_path"]),
            work_path=Path(data["work_path"]),
            rules_dir=Path(data["rules_dir"]) if data["rules_dir"] else None,
            out_dir=Path(data["out_dir"]),
            keep_followup=int(data["keep_followup"]),
        )

    def run_parameters(self, as_of: dt.date | None, force: bool) -> dict[str, Any]:
        """The nightly refresh's arguments for one served run."""
        return {
            "raw_dir": str(self.raw_dir),
            "marts_path": str(self.marts_path),
            "work_path": str(self.work_path),
            "rules_dir": str(self.rules_dir) if self.rules_dir else None,
            "as_of": as_of,
            "force": force,
            "keep_followup": self.keep_followup,
        }


def _shown(names: list[str]) -> str:
    shown = "、".join(name[:40] for name in names[:SHOWN])
    return shown + (f" 等 {len(names)} 个" if len(names) > SHOWN else "")


def refusal(names: list[str]) -> str:
    """Why a run carrying the parameters `names` (other than as_of and force) is refused."""
    return (
        f"定时运行只接受两个参数：评估日期 as_of 和是否强制重算 force；本次运行还带有参数 "
        f"{_shown(names)}，已拒绝：未读取、未写入任何文件。各文件的位置在启动 "
        "employment-eval serve 时确定，不能通过 Prefect 接口更改。"
    )


def checked_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """The served run's parameters, checked: only `as_of` (a date, or none for today in
    Shanghai) and `force` (true or false)."""
    other = sorted(set(parameters) - set(ALLOWED))
    if other:
        raise ParametersRefused(refusal(other))
    as_of = parameters.get("as_of")
    if isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of)
        except ValueError:
            as_of = "invalid"
    if as_of is not None and not (
        isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime)
    ):
        raise ParametersRefused(
            "定时运行的参数 as_of 应为 YYYY-MM-DD 格式的日期（或不填，即上海时间的当天），"
            "本次的值无法识别，已拒绝：未读取、未写入任何文件。"
        )
    force = parameters.get("force", False)
    if not isinstance(force, bool):
        raise ParametersRefused(
            "定时运行的参数 force 应为 true 或 false，本次的值无法识别，已拒绝：未读取、"
            "未写入任何文件。"
        )
    Bound.from_environment()  # refused before the flow runs when not started by `serve`
    return {"as_of": as_of, "force": force}


class ServedFlow(Flow):
    """A flow whose parameters are checked by `checked_parameters`, with Chinese messages,
    in place of Prefect's validation (which runs before the flow's code)."""

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        return checked_parameters(parameters)


def refused_in_chinese(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """on_crashed: a run carrying a parameter the flow does not have never reaches
    `validate_parameters` — Prefect matches the parameters to the function's signature first
    and the run's process exits (Crashed, in English). This hook, run by the serving process,
    marks such a run Failed with the Chinese reason. Nothing of the flow ran."""
    other = sorted(set(flow_run.parameters or {}) - set(ALLOWED))
    if not other:
        return
    from prefect.client.orchestration import get_client
    from prefect.states import Failed

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run.id, Failed(message=refusal(other)), force=True)


def nightly(as_of: dt.date | None = None, force: bool = False) -> str:
    """The nightly refresh of the bound paths; returns the run id."""
    from flows.nightly_refresh import nightly_refresh

    return nightly_refresh.fn(**Bound.from_environment().run_parameters(as_of, force))


def year_end(as_of: dt.date | None = None, force: bool = False) -> list[str]:
    """The year-end scoreboard of the bound paths; returns the files written."""
    from flows.year_end import year_end_scoreboard

    bound = Bound.from_environment()
    return year_end_scoreboard.fn(**bound.run_parameters(as_of, force), out_dir=str(bound.out_dir))


SERVED = {"persist_result": False, "on_crashed": [refused_in_chinese]}
served_nightly = ServedFlow(nightly, name="nightly_refresh", **SERVED)
served_year_end = ServedFlow(year_end, name="year_end_scoreboard", **SERVED)
