"""The one Verdict: what the evaluation supports saying about the model, and nothing more.

Every rendering (the sentence, the report's badge, the console line and
``metrics.json``) reads this object, so they cannot contradict each other.

The claim is about MASE (mean absolute error scaled by the training data's
naive error), so it is tested on absolute loss: Diebold-Mariano with
``power=1``. The model *beats* naive only when its MASE is lower, the DM test
is significant at :data:`~rnncast.evaluate.conventions.ALPHA` and the MAE
skill is material (at least
:data:`~rnncast.evaluate.conventions.MATERIAL_SKILL_PCT` percent). It is
*worse* when its MASE is higher, the test is significant and the loss is
materially higher (MAE skill at most minus that threshold). Everything else is
*level*: no evidence of skill.

Example:
    >>> v = Verdict(outcome="level", model_mase=1.01, naive_mase=1.00, mae_skill_pct=-1.0,
    ...             dm_statistic=0.4, dm_p_value=0.69)
    >>> v.sentence().split(" (")[0]
    'no evidence of skill: model is level with naive on MASE'
    >>> v.badge()[0]
    'amber'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from rnncast._internal.jsonsafe import json_safe
from rnncast.evaluate.conventions import ALPHA, MATERIAL_SKILL_PCT

BADGES = {
    "beats": ("green", "Beats the naive forecast, significantly"),
    "level": ("amber", "No evidence of skill: level with the naive forecast"),
    "worse": ("red", "Significantly worse than the naive forecast"),
    "unknown": ("grey", "No model forecast to compare with the naive forecast"),
}
DM_TEST = "Diebold-Mariano (HLN), absolute loss"
DIRECTION_TEST = "Pesaran-Timmermann"


@dataclass(frozen=True)
class DirectionClaim:
    """What the direction test supports: hit rate next to the base rate of up days.

    Attributes:
        hit_rate: Share of counted days whose predicted direction was right.
        base_rate: Share of counted days that went up.
        p_value: One-sided p-value of the direction test (NaN when not informative).
        method: Test used (``"pesaran-timmermann"``, ``"fisher-exact"`` or ``"none"``).
        informative: False when the forecast never changes its call.
        n: Days counted.
    """

    hit_rate: float
    base_rate: float
    p_value: float
    method: str
    informative: bool
    n: int

    @property
    def significant(self) -> bool:
        """True when the forecast's calls are significantly associated with the moves."""
        return self.informative and self.p_value < ALPHA

    def phrase(self) -> str:
        """``direction: 56.1% right vs 54.0% up days (Pesaran-Timmermann p=0.21): ...``."""
        if not self.informative:
            return "direction: no directional information (the forecast never changes its call)"
        meaning = (
            "significant directional skill"
            if self.significant
            else "no evidence of directional skill"
        )
        return (
            f"direction: {self.hit_rate:.1%} right vs {self.base_rate:.1%} up days "
            f"({DIRECTION_TEST} {format_p(self.p_value)}): {meaning}"
        )


class VerdictText:
    """What every verdict renders from its ``sentence()``: badge, console line, JSON, ``str``.

    Subclasses are frozen dataclasses with an ``outcome`` and a
    ``repeats_last_price``; they set ``badges`` (outcome -> (colour, label))
    and ``console_prefix``.
    """

    badges: ClassVar[dict[str, tuple[str, str]]]
    console_prefix: ClassVar[str] = "verdict"

    def sentence(self) -> str:
        """The verdict in one line of plain language (each verdict kind writes its own)."""
        raise NotImplementedError

    def badge(self) -> tuple[str, str]:
        """``(colour, label)`` of the report's badge: green, amber, red or grey."""
        colour, label = self.badges[self.outcome]
        if self.outcome == "beats" and self.repeats_last_price:
            return "amber", label + ", but it mostly repeats the last price"
        return colour, label

    def console_line(self) -> str:
        """``<prefix>: <sentence>`` for terminals and logs."""
        return f"{self.console_prefix}: {self.sentence()}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields plus ``repeats_last_price``, the ``sentence`` and ``badge``."""
        fields = asdict(self)
        fields["repeats_last_price"] = self.repeats_last_price
        fields["sentence"] = self.sentence()
        fields["badge"] = dict(zip(("colour", "label"), self.badge(), strict=True))
        return json_safe(fields)

    def _caveats(self, metric: str) -> list[str]:
        """The phrases every verdict adds after its claim: learned nothing, baseline, direction."""
        parts = []
        if self.learned_nothing:
            parts.append(
                "the network learned only the average move (its training forecasts barely vary)"
            )
        if self.best_baseline is not None:
            name, score = self.best_baseline
            parts.append(f"best baseline: {name} ({metric} {score:.2f}) beats the model")
        if self.direction is not None:
            parts.append(self.direction.phrase())
        return parts

    def __str__(self) -> str:
        return self.sentence()


@dataclass(frozen=True)
class Verdict(VerdictText):
    """The claim an evaluation supports, with the evidence behind it.

    Attributes:
        outcome: ``"beats"``, ``"level"``, ``"worse"`` or ``"unknown"`` (no model).
        model_mase: The model's MASE at step 1.
        naive_mase: The naive forecast's MASE at step 1.
        mae_skill_pct: ``100 * (1 - MAE_model / MAE_naive)``, the skill on the claimed loss.
        dm_statistic: DM statistic on absolute loss (negative: the model's loss is lower).
        dm_p_value: Its two-sided p-value.
        metric: The metric the claim is about.
        test: The test behind the claim.
        repeats_last_price: The lag check's flag; never dropped from the sentence.
        best_lag: The lag at which the forecast correlates best with the actuals.
        naive_share: Share of forecasts equal to the last price (within tolerance).
        direction: The direction claim, or ``None``.
        coverage_warnings: One phrase per interval whose coverage is clearly below nominal.
        learned_nothing: The network predicts (almost) only the average move.
        best_baseline: ``(name, MASE)`` of a baseline that beats the model and naive.
        steps_won: ``(steps where the model's MASE beats naive's, horizon)`` for horizon > 1.
        notes: Further plain-language caveats (e.g. how many configurations were tried).
    """

    badges = BADGES

    outcome: str
    model_mase: float = math.nan
    naive_mase: float = math.nan
    mae_skill_pct: float = math.nan
    dm_statistic: float = math.nan
    dm_p_value: float = math.nan
    metric: str = "MASE"
    test: str = DM_TEST
    repeats_last_price: bool = False
    best_lag: int | None = None
    naive_share: float = math.nan
    direction: DirectionClaim | None = None
    coverage_warnings: tuple[str, ...] = ()
    learned_nothing: bool = False
    best_baseline: tuple[str, float] | None = None
    steps_won: tuple[int, int] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------ renderings
    def sentence(self) -> str:
        """The verdict in one line of plain language (what the console and report print)."""
        if self.outcome == "unknown":
            return "no model forecast to judge"
        parts = [self._claim()]
        if self.repeats_last_price:
            parts.append(self._lag_phrase())
        parts.extend(self._caveats("MASE"))
        parts.extend(self.coverage_warnings)
        if self.steps_won is not None:
            won, horizon = self.steps_won
            parts.append(f"beats naive on MASE at {won} of {horizon} steps")
        parts.extend(self.notes)
        return "; ".join(parts)

    # --------------------------------------------------------------- pieces
    def _claim(self) -> str:
        numbers = (
            f"{self.model_mase:.2f} vs {self.naive_mase:.2f}, MAE skill {self.mae_skill_pct:+.1f}%"
        )
        if math.isfinite(self.dm_p_value):
            numbers += f", DM {format_p(self.dm_p_value)}"
        if self.outcome == "beats":
            return f"model beats naive significantly on MASE ({numbers})"
        if self.outcome == "worse":
            return f"model is significantly worse than naive on MASE ({numbers})"
        return f"no evidence of skill: model is level with naive on MASE ({numbers})"

    def _lag_phrase(self) -> str:
        if math.isfinite(self.naive_share) and self.naive_share >= 0.5:
            return (
                f"it mostly repeats the last price ({self.naive_share:.0%} of its forecasts "
                "equal it)"
            )
        return "it mostly repeats the last price (best lag -1)"


def decide(
    model_mase: float, naive_mase: float, mae_skill_pct: float, dm_statistic: float, p: float
) -> str:
    """``"beats"``, ``"worse"`` or ``"level"`` from the claimed metric and its DM test.

    A win or a loss must be significant (DM on absolute loss, with the right
    sign) and material (``|MAE skill| >= MATERIAL_SKILL_PCT``).

    Example:
        >>> decide(0.90, 1.00, 10.0, -3.1, 0.002), decide(0.999, 1.00, 0.1, -3.1, 0.002)
        ('beats', 'level')
    """
    significant = math.isfinite(p) and p < ALPHA
    if (
        model_mase < naive_mase
        and significant
        and dm_statistic < 0
        and mae_skill_pct >= MATERIAL_SKILL_PCT
    ):
        return "beats"
    if (
        model_mase > naive_mase
        and significant
        and dm_statistic > 0
        and mae_skill_pct <= -MATERIAL_SKILL_PCT
    ):
        return "worse"
    return "level"


def format_p(p: float) -> str:
    """``p=0.21``, ``p=0.004`` or ``p<0.001``.

    Example:
        >>> format_p(0.0004), format_p(0.004), format_p(0.2149)
        ('p<0.001', 'p=0.004', 'p=0.21')
    """
    return "p<0.001" if p < 0.001 else f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"
