"""Every estimate mognet_lab gives, and its 95% interval, from one place.

Two kinds of sample reach this module.

**A sampled scan** (``scan(sample=f)``) reads the keys whose owner id hashes
below ``f`` (:mod:`mognet_lab.reader.sample`), and its walk counts every key
of the app by kind, exactly. Totals are estimated per *stratum* (a key kind;
result families count as one stratum, the results') with the **ratio
estimator with the exact population count**: a stratum of ``N`` keys of
which ``n`` were read contributes ``N / n`` times the sum over those ``n``
(each row's ``weight``). Given ``n``, a hash sample is a simple random sample
of the stratum, so the variance of a *domain* total (a group: a state, a TTL
bucket) is the textbook formula with the finite-population correction::

    Var(Y_hat) = N**2 * (1 - n / N) / n * s**2

where ``s**2`` is the sample variance over all ``n`` rows of ``y`` inside the
domain and 0 outside it; strata add up. The normal interval
``Y_hat +- 1.96 * sqrt(Var)`` undercovers a domain seen in only a few rows
(or none: keys without a TTL are often rare), so each domain's interval is
widened to hold also the **Wilson score interval** of its share of the
stratum (times ``N``, with the same finite-population correction) times the
mean ``y`` of its rows (of the stratum's rows where none was read). The
lower bound is never below what the sample itself saw, which is certain. A
group read in fewer than ten rows (whose spread they cannot tell) also spans
the distribution-free bounds: from what was read up to every unread unit of
its stratum as large as the largest read. Where a group is read in a handful
of rows, Student's t replaces the normal quantile. The families of the
*census* (values of ``sample_census_bytes`` or more, read whatever the hash)
are strata read whole: they count as they are and add no variance.

**The pre-flight** (:class:`~.preflight.Estimate`) walks SCAN for a moment: the keys it
named are a hash sample of the db, of which ``DBSIZE`` (exact) is known, so
the app's keys are the ratio estimate ``DBSIZE * m / e`` (``m`` of the app
among ``e`` named), with the Wilson interval of the share ``m / e``.

Costs are derived from the benchmark (bench/README.md, 1M results, 2.07M
keys on a 2-core machine): a full scan reads :data:`SCAN_KEYS_PER_S` keys a
second and peaks at :data:`CLIENT_BYTES_PER_KEY` of client memory per key
(1,837 MiB peak RSS for 2,074,019 keys); a sampled walk has the server name
every key of the db at about :data:`WALK_KEYS_PER_S` a second (SCAN ... MATCH
COUNT 1000 takes ~1.3 ms of server time per 1000 keys; a 1% sample of the
518,507 keys of the 250k-result benchmark keyspace took 1.5 s) besides
reading its sample at the full rate.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import pandas as pd

from ..vector import member_of

if TYPE_CHECKING:
    from ..snapshot import Snapshot

__all__ = ["CENSUS", "CLIENT_BYTES_PER_KEY", "FAMILY", "SCAN_KEYS_PER_S", "WALK_KEYS_PER_S",
           "Z95", "estimate_families", "estimate_keys", "estimate_total", "estimate_totals",
           "family_strata", "interval_columns", "key_strata", "sample_label", "scale_seen",
           "share_estimate", "t95", "wilson"]

Z95 = 1.959964
SCAN_KEYS_PER_S = 30_000.0
CLIENT_BYTES_PER_KEY = 900.0
WALK_KEYS_PER_S = 400_000.0


def wilson(hits: np.ndarray | float, trials: np.ndarray | float, *,
           read_share: np.ndarray | float = 0.0, z: float = Z95
           ) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``hits / trials`` (arrays or numbers).

    ``read_share`` (``n / N``) applies the finite-population correction: the
    interval closes as the sample becomes the whole population. ``trials`` of 0
    gives ``[0, 1]``.
    """
    hits, trials = np.asarray(hits, dtype=float), np.asarray(trials, dtype=float)
    zc = z * np.sqrt(np.clip(1.0 - np.asarray(read_share, dtype=float), 0.0, 1.0))
    safe = np.where(trials > 0, trials, 1.0)
    p = hits / safe
    denominator = 1 + zc ** 2 / safe
    centre = (p + zc ** 2 / (2 * safe)) / denominator
    spread = zc * np.sqrt(p * (1 - p) / safe + zc ** 2 / (4 * safe ** 2)) / denominator
    low = np.where(trials > 0, np.clip(centre - spread, 0, 1), 0.0)
    high = np.where(trials > 0, np.clip(centre + spread, 0, 1), 1.0)
    return low, high


def interval_columns(column: str) -> tuple[str, str]:
    """The names of an estimated column's bounds: ``X_low``, ``X_high``."""
    return f"{column}_low", f"{column}_high"


def sample_label(fraction: float | None) -> str:
    """``"estimated from a 1% sample"`` (``""`` for a full scan): the views' one wording."""
    if fraction is None:
        return ""
    percent = fraction * 100
    text = f"{percent:.0f}" if percent >= 1 and float(percent).is_integer() else f"{percent:.3g}"
    return f"estimated from a {text}% sample"


def estimate_totals(rows: pd.DataFrame, by: Sequence[str], sums: Sequence[str], *,
                    stratum: str, sizes: Mapping[object, float], read: Mapping[object, int],
                    cells: pd.DataFrame | None = None, whole_strata: bool = False,
                    means: pd.DataFrame | None = None) -> pd.DataFrame:
    """Estimated totals of ``sums`` per group of ``by``, each with ``_low``/``_high``.

    Parameters
    ----------
    rows
        One row per sampled unit (a key, or a result family): the ``by``
        labels, its ``stratum`` and the amounts to add up (``>= 0``).
    sizes, read
        Per stratum: units in the population (``N``, exact) and units read (``n``).
    cells
        ``(by..., stratum)`` pairs to report even where no row was read (an
        estimate of 0 whose upper bound says how many could have been missed).
    whole_strata
        Each group is a whole stratum (``by`` is the stratum): its count is
        exact, so no interval of a share applies.
    means
        Mean amount of a unit per stratum (index) and column, for cells where no
        row was read (default: the rows' own means).

    Returns
    -------
    pandas.DataFrame
        ``[*by, X, X_low, X_high for X in sums]`` (floats), one row per group.
    """
    by, sums = list(by), list(sums)
    amounts = rows[sums].astype("float64")
    frame = rows[[*by, stratum]].assign(**{s: amounts[s] for s in sums},
                                        **{f"{s}__sq": amounts[s] ** 2 for s in sums},
                                        **{f"{s}__nz": (amounts[s] != 0).astype(float)
                                           for s in sums})
    grouped = frame.groupby([*by, stratum], observed=True, dropna=False, sort=False)
    extra = [f"{s}__{part}" for s in sums for part in ("sq", "nz")]
    cell = grouped[[*sums, *extra]].sum().reset_index()
    if cells is not None and len(cells):
        cell = _with_cells(cell, cells, [*by, stratum])
    big_n = cell[stratum].map(lambda h: float(sizes.get(h, 0))).to_numpy(dtype=float)
    small_n = cell[stratum].map(lambda h: float(read.get(h, 0))).to_numpy(dtype=float)
    if means is None:
        means = _stratum_means(rows, stratum, sums)
    out = cell[by].copy()
    for column in sums:
        unit = cell[stratum].map(means[column]).fillna(
            means[column].mean() if len(means) else 0.0).to_numpy(dtype=float)
        top = amounts[column].groupby(rows[stratum], observed=True, dropna=False).max()
        largest = cell[stratum].map(top).fillna(
            float(amounts[column].max()) if len(amounts) else 0.0).to_numpy(dtype=float)
        estimate, low, high = _cell_bounds(cell, column, big_n, small_n, whole_strata, unit,
                                           largest)
        out[column], out[f"{column}__low"], out[f"{column}__high"] = estimate, low, high
        out[f"{column}__var"] = _variance(cell, column, big_n, small_n) * \
            (t95(cell[f"{column}__nz"].to_numpy(dtype=float) - 1) / Z95) ** 2
        out[f"{column}__seen"] = cell[column].to_numpy(dtype=float)
    return _combine(out, by, sums)


def _with_cells(cell: pd.DataFrame, cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    wanted = cells[keys].astype(object)
    have = cell[keys].astype(object)
    merged = wanted.merge(have.assign(__have=True), on=keys, how="left")
    missing = wanted[merged["__have"].isna().to_numpy()]
    if missing.empty:
        return cell
    zeros = missing.assign(**{c: 0.0 for c in cell.columns if c not in keys})
    return pd.concat([cell.astype({k: object for k in keys}), zeros], ignore_index=True)


def _stratum_means(rows: pd.DataFrame, stratum: str, sums: list[str]) -> pd.DataFrame:
    """Mean non-zero amount per row of each stratum: the size of a unit a sample may have
    missed (1 for a column of counts none of whose rows is non-zero)."""
    amounts = rows[sums].astype("float64")
    means = amounts.where(amounts != 0).groupby(rows[stratum], observed=True,
                                                dropna=False).mean()
    for column in sums:
        fallback = amounts[column][amounts[column] != 0].mean()
        means[column] = means[column].fillna(1.0 if pd.isna(fallback) else fallback)
    return means


def _variance(cell: pd.DataFrame, column: str, big_n: np.ndarray,
              small_n: np.ndarray) -> np.ndarray:
    total, squares = cell[column].to_numpy(dtype=float), cell[f"{column}__sq"].to_numpy(dtype=float)
    n = np.where(small_n > 0, small_n, 1.0)
    spread = np.where(small_n > 1, (squares - total ** 2 / n) / np.maximum(small_n - 1, 1), 0.0)
    fpc = np.clip(1 - small_n / np.where(big_n > 0, big_n, 1.0), 0.0, 1.0)
    return big_n ** 2 * fpc / n * np.clip(spread, 0.0, None)


def _cell_bounds(cell: pd.DataFrame, column: str, big_n: np.ndarray, small_n: np.ndarray,
                 whole_strata: bool, stratum_mean: np.ndarray, largest: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point estimate and the share-based bounds of each (group, stratum) cell."""
    total = cell[column].to_numpy(dtype=float)
    ratio = np.where(small_n > 0, big_n / np.where(small_n > 0, small_n, 1.0), 0.0)
    estimate = ratio * total
    hits = cell[f"{column}__nz"].to_numpy(dtype=float)
    share_low, share_high = wilson(hits, small_n,
                                   read_share=small_n / np.where(big_n > 0, big_n, 1.0))
    unit = np.where(hits > 0, total / np.where(hits > 0, hits, 1.0), stratum_mean)
    low, high = big_n * share_low * unit, big_n * share_high * unit
    if whole_strata:  # a whole stratum read in part: only its amounts are uncertain
        low, high = np.where(small_n > 0, estimate, low), np.where(small_n > 0, estimate, high)
    # A few rows tell little of the spread (a handful of equal sizes has none): the rows
    # not read may be anything from nothing to the largest of their stratum read.
    few = (hits > 0) & (hits < _FEW_ROWS) & (big_n > small_n)
    unread = (big_n if whole_strata else big_n * share_high) - hits
    low = np.where(few, np.minimum(low, total), low)
    high = np.where(few, np.maximum(high, total + np.maximum(unread, 0) * largest), high)
    return estimate, low, high


# Below this many rows of a group, its interval also spans the distribution-free bounds.
_FEW_ROWS = 10


# Student's t, 97.5% quantile, for 1..5 degrees of freedom; beyond, a Cornish-Fisher series.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571)


def t95(dof: np.ndarray | float) -> np.ndarray:
    """The two-sided 95% quantile of Student's t with ``dof`` degrees of freedom (z for
    many; ``dof < 1``: z, where there is no spread to scale)."""
    dof = np.asarray(dof, dtype=float)
    z = Z95
    safe = np.maximum(dof, 1.0)
    series = z + (z ** 3 + z) / (4 * safe) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * safe ** 2)
    table = np.array(_T95)[np.clip(safe.astype(int), 1, 5) - 1]
    return np.where(dof < 1, z, np.where(dof <= 5, table, series))


def _combine(out: pd.DataFrame, by: list[str], sums: list[str]) -> pd.DataFrame:
    """Add each group's strata up; the interval is the wider of the normal one and the
    share-based one, never below what the sample saw."""
    parts = [c for s in sums for c in (s, f"{s}__low", f"{s}__high", f"{s}__var", f"{s}__seen")]
    summed = out.groupby(by, observed=True, dropna=False, sort=False)[parts].sum().reset_index()
    result = summed[by].copy()
    for column in sums:
        estimate = summed[column].to_numpy(dtype=float)
        spread = Z95 * np.sqrt(summed[f"{column}__var"].to_numpy(dtype=float))
        seen = summed[f"{column}__seen"].to_numpy(dtype=float)
        low = np.minimum(estimate - spread, summed[f"{column}__low"].to_numpy(dtype=float))
        high = np.maximum(estimate + spread, summed[f"{column}__high"].to_numpy(dtype=float))
        low_name, high_name = interval_columns(column)
        # Keys and bytes come whole: the estimate rounds, the interval rounds outwards.
        result[column] = _whole(np.round(estimate))
        result[low_name] = _whole(np.floor(np.maximum(low, seen)))
        result[high_name] = _whole(np.ceil(np.maximum(high, estimate)))
    return result


def _whole(values: np.ndarray) -> np.ndarray:
    return values.astype("int64") if np.isfinite(values).all() else values


def share_estimate(hits: int, named: int, population: int) -> tuple[float, float, float]:
    """Ratio estimate of the keys of a kind in a db of ``population`` keys (exact), from
    ``hits`` of them among ``named`` keys of a hash sample, with its Wilson interval."""
    if named <= 0:
        return math.nan, 0.0, float(population)
    if named >= population:
        return float(hits), float(hits), float(hits)
    low, high = wilson(hits, named, read_share=named / population)
    return (population * hits / named, max(float(hits), population * float(low)),
            max(float(hits), population * float(high)))


# -- the strata of a sampled snapshot --------------------------------------------------
FAMILY = "(family)"
# The census (families of large values, read whatever the hash) is a stratum of its
# own per kind, read whole: it adds no variance.
CENSUS = "census:"


def _in_census(snapshot: Snapshot, ids: pd.Series) -> np.ndarray:
    census = snapshot.census
    if not len(census):
        return np.zeros(len(ids), dtype=bool)
    return member_of(ids, census).to_numpy(dtype=bool)


def key_strata(snapshot: Snapshot) -> tuple[dict[object, float], dict[object, int]]:
    """Per stratum (key kind; the census apart): keys the walk counted (``N``) and keys
    read (``n``)."""
    keys = snapshot.keys
    kinds = keys["kind"].astype(object)
    taken = _in_census(snapshot, keys["result_id"])
    read = kinds[~taken].value_counts()
    whole = kinds[taken].value_counts()
    sizes: dict[object, float] = {kind: float(n - whole.get(kind, 0))
                                  for kind, n in snapshot.population.items()}
    sizes.update({CENSUS + kind: float(n) for kind, n in whole.items()})
    counts: dict[object, int] = {kind: int(n) for kind, n in read.items()}
    counts.update({CENSUS + kind: int(n) for kind, n in whole.items()})
    return sizes, counts


def family_strata(snapshot: Snapshot, rows: pd.DataFrame
                  ) -> tuple[pd.Series, dict[object, float], dict[object, int]]:
    """Result families (``rows`` with a ``result_id``) as one stratum (the census apart):
    each row's stratum, then per stratum the units standing for as many more as the
    result hashes counted over those read (the results' ratio estimator) and those read."""
    taken = _in_census(snapshot, rows["result_id"])
    results_taken = int(_in_census(snapshot, snapshot.results["result_id"]).sum())
    counted = snapshot.population.get("result", 0) - results_taken
    read = len(snapshot.results) - results_taken
    ratio = counted / read if read else 1 / (snapshot.sample_fraction or 1.0)
    units, whole = int((~taken).sum()), int(taken.sum())
    stratum = pd.Series(np.where(taken, CENSUS + FAMILY, FAMILY), index=rows.index)
    sizes: dict[object, float] = {FAMILY: ratio * units, CENSUS + FAMILY: float(whole)}
    counts: dict[object, int] = {FAMILY: units, CENSUS + FAMILY: whole}
    return stratum, sizes, counts


def estimate_keys(snapshot: Snapshot, rows: pd.DataFrame, by: Sequence[str],
                  sums: Sequence[str], *, every: Sequence[Sequence[object]] | None = None,
                  kinds: Sequence[str] | None = None, whole_strata: bool = False
                  ) -> pd.DataFrame:
    """:func:`estimate_totals` of rows that are keys (``rows`` holds ``kind`` and
    ``result_id``).

    ``every``: groups (tuples of ``by`` labels) to report in each of ``kinds``
    (default: every kind the walk counted), zeros included.
    """
    sizes, read = key_strata(snapshot)
    kind = rows["kind"].astype(object)
    taken = _in_census(snapshot, rows["result_id"])
    rows = rows.assign(__stratum=np.where(taken, CENSUS + kind, kind))
    keys = snapshot.keys
    size = keys["memory_bytes"].astype("float64").fillna(0).groupby(
        keys["kind"].astype(object)).mean()
    means = _stratum_means(rows, "__stratum", list(sums)).reindex(size.index)
    for column in sums:  # a kind none of whose rows is here: a typical key of the kind
        means[column] = 1.0 if column == "keys" else means[column].fillna(size)
    cells = None
    if every is not None:
        wanted = [k for k, n in sizes.items() if n and not str(k).startswith(CENSUS)
                  and (kinds is None or k in kinds)]
        cells = pd.DataFrame([(*group, k) for group in every for k in wanted],
                             columns=[*by, "__stratum"])
        if "kind" in by:  # a group naming a kind comes from that kind only
            cells = cells[cells["kind"] == cells["__stratum"]]
    return estimate_totals(rows, by, sums, stratum="__stratum", sizes=sizes, read=read,
                           cells=cells, whole_strata=whole_strata, means=means)


def estimate_families(snapshot: Snapshot, rows: pd.DataFrame, by: Sequence[str],
                      sums: Sequence[str], *, every: Sequence[Sequence[object]] | None = None
                      ) -> pd.DataFrame:
    """:func:`estimate_totals` of rows that are result families (or results: ``rows``
    holds a ``result_id``); ``every``: groups to report even where none was read (e.g.
    every Mognet state)."""
    stratum, sizes, read = family_strata(snapshot, rows)
    cells = None if every is None else \
        pd.DataFrame([(*group, FAMILY) for group in every], columns=[*by, "__stratum"])
    return estimate_totals(rows.assign(__stratum=stratum), by, sums, stratum="__stratum",
                           sizes=sizes, read=read, cells=cells)


def estimate_total(snapshot: Snapshot, rows: pd.DataFrame, sums: Sequence[str], *,
                   kinds: Sequence[str] | None = None, whole: bool = False
                   ) -> dict[str, float]:
    """One total over key rows (of ``kinds``; default: any), each of ``sums`` with
    ``_low``/``_high``: a dict. ``whole``: the rows are every key of their kinds."""
    out = estimate_keys(snapshot, rows.assign(__all=0), ["__all"], sums, every=[(0,)],
                        kinds=kinds, whole_strata=whole)
    row = out.iloc[0] if len(out) else None
    names = [n for s in sums for n in (s, *interval_columns(s))]
    return {n: float(row[n]) if row is not None else 0.0 for n in names}


def scale_seen(snapshot: Snapshot, keys: int, size: int) -> dict[str, float]:
    """``keys`` keys of ``size`` bytes seen in a sampled snapshot, scaled up to the app.

    The keys' share of every key read gets its Wilson interval (a finding's
    keys are of any kind, so the whole app is one stratum here); the bytes
    follow at the seen keys' mean size.
    """
    counted, read = float(sum(snapshot.population.values())), len(snapshot.keys)
    if not read or not counted:
        return {"keys": keys, "keys_low": keys, "keys_high": keys, "bytes": size,
                "bytes_low": size, "bytes_high": size}
    share_low, share_high = wilson(keys, read, read_share=min(read / counted, 1.0))
    unit = size / keys if keys else 0.0
    low, high = max(keys, counted * float(share_low)), max(keys, counted * float(share_high))
    estimate = counted * keys / read
    return {"keys": round(estimate), "keys_low": math.floor(low), "keys_high": math.ceil(high),
            "bytes": round(estimate * unit), "bytes_low": max(size, math.floor(low * unit)),
            "bytes_high": math.ceil(high * unit)}
