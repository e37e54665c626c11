"""The UniverseVerdict: what the evaluation of many tickers supports saying, and nothing more.

The claim is about *pooled* MASE: the mean, over every ticker-date, of the
absolute error divided by that ticker's MASE scale. Skill is claimed across
the universe only when the panel Diebold-Mariano test of the pooled loss
differential (date-clustered, so robust to the market moving every ticker at
once; see :mod:`rnncast.evaluate.panel`) is significant at
:data:`~rnncast.evaluate.conventions.ALPHA` and the pooled skill is material
(at least :data:`~rnncast.evaluate.conventions.MATERIAL_SKILL_PCT` percent):
the rule of the single-series :class:`~rnncast.evaluate.verdict.Verdict`,
applied by the same :func:`~rnncast.evaluate.verdict.decide`. Next to it, the
sentence says on how many tickers the model beats naive after a
Benjamini-Hochberg correction across tickers, how many the lag check flags,
and what the pooled direction test found.

Example:
    >>> v = UniverseVerdict(outcome="level", n_tickers=176, n_beats_fdr=3,
    ...                     pooled_mase=1.002, naive_pooled_mase=1.0, pooled_skill_pct=-0.2,
    ...                     panel_statistic=0.8, panel_p_value=0.41)
    >>> import textwrap
    >>> print(textwrap.fill(v.sentence(), 90))
    beats naive on 3 of 176 tickers after FDR correction; pooled skill -0.2% (pooled MASE 1.00
    vs naive 1.00, panel DM p=0.41): no evidence of skill across the universe
    >>> v.badge()[0]
    'amber'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rnncast.evaluate.conventions import ALPHA
from rnncast.evaluate.verdict import VerdictText, format_p

__all__ = ["FDR_LEVEL", "UNIVERSE_BADGES", "PooledDirection", "UniverseVerdict"]

FDR_LEVEL = ALPHA / 2
"""False discovery rate of the one-sided "beats naive" tests across tickers.

A single series *beats* naive when its two-sided Diebold-Mariano p-value is
below :data:`~rnncast.evaluate.conventions.ALPHA` with the model's loss lower:
a one-sided test at ``ALPHA / 2``. Controlling the FDR of the one-sided
p-values at the same ``ALPHA / 2`` keeps the two claims consistent: a ticker
that beats naive after the correction also beats it on its own.
"""

UNIVERSE_BADGES = {
    "beats": ("green", "Beats the naive forecast across the universe, significantly"),
    "level": ("amber", "No evidence of skill across the universe"),
    "worse": ("red", "Significantly worse than the naive forecast across the universe"),
    "unknown": ("grey", "No model forecast to compare with the naive forecast"),
}
PANEL_TEST = "panel Diebold-Mariano (date-clustered, HLN), scaled absolute loss"
POOLED_DIRECTION_TEST = "pooled direction test (date-clustered)"


@dataclass(frozen=True)
class PooledDirection:
    """The direction claim over every ticker-date, with the per-ticker tests counted.

    Attributes:
        hit_rate: Share of counted ticker-dates whose call was right.
        base_rate: Share of the same ticker-dates that went up.
        p_value: One-sided p-value of the pooled, date-clustered test (NaN
            when no ticker's calls change side).
        n: Ticker-dates counted (the price moved and the model made a call).
        n_significant: Tickers whose own Pesaran-Timmermann p is below ALPHA
            (uncorrected for multiple testing).
        n_tickers: Tickers tested.
    """

    hit_rate: float
    base_rate: float
    p_value: float
    n: int
    n_significant: int
    n_tickers: int

    @property
    def informative(self) -> bool:
        """False when the model never changes its call on any ticker."""
        return math.isfinite(self.p_value)

    @property
    def significant(self) -> bool:
        """True when pooled calls and moves are significantly associated."""
        return self.informative and self.p_value < ALPHA

    def phrase(self) -> str:
        """``direction: 51.0% right vs 52.4% up days, pooled (...p=0.33): ...``."""
        if not self.informative:
            return "direction: no directional information (the model never changes its call)"
        meaning = (
            "significant directional skill"
            if self.significant
            else "no evidence of directional skill"
        )
        return (
            f"direction: {self.hit_rate:.1%} right vs {self.base_rate:.1%} up days, pooled "
            f"({POOLED_DIRECTION_TEST} {format_p(self.p_value)}): {meaning}; "
            f"significant on {self.n_significant} of {self.n_tickers} tickers, uncorrected"
        )


@dataclass(frozen=True)
class UniverseVerdict(VerdictText):
    """The claim a universe evaluation supports, with the evidence behind it.

    Mirrors :class:`~rnncast.evaluate.verdict.Verdict`: ``sentence``,
    ``badge``, ``console_line``, ``to_dict`` and ``str``.

    Attributes:
        outcome: ``"beats"``, ``"level"``, ``"worse"`` or ``"unknown"`` (no model).
        n_tickers: Tickers evaluated.
        n_beats_fdr: Tickers where the model beats naive after the BH correction
            (and by a material margin).
        pooled_mase: The model's pooled MASE at step 1.
        naive_pooled_mase: Naive's pooled MASE on the same ticker-dates.
        pooled_skill_pct: ``100 * (1 - pooled_mase / naive_pooled_mase)``.
        panel_statistic: Panel DM statistic (negative: the model's pooled loss is lower).
        panel_p_value: Its two-sided p-value.
        fdr_level: The FDR level of the per-ticker correction.
        metric: The metric the claim is about.
        test: The test behind the claim.
        n_lag_flagged: Tickers whose lag check says the model repeats the last price.
        direction: The pooled direction claim, or ``None``.
        learned_nothing: The network predicts (almost) only the average move.
        best_baseline: ``(name, pooled MASE)`` of a baseline that beats the model and naive.
        notes: Further plain-language caveats.
    """

    badges = UNIVERSE_BADGES
    console_prefix = "universe verdict"

    outcome: str
    n_tickers: int = 0
    n_beats_fdr: int = 0
    pooled_mase: float = math.nan
    naive_pooled_mase: float = math.nan
    pooled_skill_pct: float = math.nan
    panel_statistic: float = math.nan
    panel_p_value: float = math.nan
    fdr_level: float = FDR_LEVEL
    metric: str = "pooled MASE"
    test: str = PANEL_TEST
    n_lag_flagged: int = 0
    direction: PooledDirection | None = None
    learned_nothing: bool = False
    best_baseline: tuple[str, float] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def repeats_last_price(self) -> bool:
        """True when the lag check flags at least half of the tickers."""
        return self.n_tickers > 0 and self.n_lag_flagged >= self.n_tickers / 2

    # ------------------------------------------------------------ renderings
    def sentence(self) -> str:
        """The verdict in one line of plain language."""
        if self.outcome == "unknown":
            return "no model forecast to judge"
        parts = [self._claim()]
        if self.n_lag_flagged:
            parts.append(self._lag_phrase())
        parts.extend(self._caveats("pooled MASE"))
        parts.extend(self.notes)
        return "; ".join(parts)

    # --------------------------------------------------------------- pieces
    def _claim(self) -> str:
        numbers = f"pooled MASE {self.pooled_mase:.2f} vs naive {self.naive_pooled_mase:.2f}" + (
            f", panel DM {format_p(self.panel_p_value)}"
            if math.isfinite(self.panel_p_value)
            else ", panel DM undefined: the forecasts equal naive's"
        )
        meaning = {
            "beats": "skill across the universe as a whole (pooled)",
            "worse": "significantly worse than naive across the universe",
        }.get(self.outcome, "no evidence of skill across the universe")
        return (
            f"beats naive on {self.n_beats_fdr} of {self.n_tickers} tickers after FDR "
            f"correction; pooled skill {self.pooled_skill_pct:+.1f}% ({numbers}): {meaning}"
        )

    def _lag_phrase(self) -> str:
        flagged = f"the lag check flags {self.n_lag_flagged} of {self.n_tickers} tickers"
        if self.repeats_last_price:
            return f"it mostly repeats yesterday's price ({flagged})"
        return f"{flagged} as repeating yesterday's price"
