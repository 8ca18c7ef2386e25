"""Rule 18, gapless segment boundaries: is the continuously decoded audio continuous at every boundary?

Two methods, both on the first channel of the whole rendition's audio decoded by ONE decoder (as a player
decodes it), around each boundary's first AAC frame:

* With a reference (`boundary_errors_against_reference`): the source signal the server synthesised is
  known; the RMS of (decoded - reference) over two AAC frames either side of the boundary must be below
  -30 dB relative to full scale (a full-scale sine's RMS). Sub-frame misalignment or a click costs far
  more than the coding noise of 128 kb/s AAC, so this is a direct measurement. At low rates the coding
  error alone is louder than that (48 kb/s, the cellular baseline's rate: -13 to -17 dBFS anywhere in a
  segment, with music), so the limit rises to the error measured the same way at AAC frame starts away
  from every boundary (its BACKGROUND_PERCENTILE-th percentile): a boundary must be no worse than the
  middle of a segment.

* Without one (`boundary_discontinuities`): a click, gap or lost priming shows up as energy a short-term
  linear predictor cannot explain, concentrated at the boundary.
  1. Residual: split the signal into REGIONs, fit one order-LPC_ORDER linear predictor per region by
     least squares, and take the prediction residual everywhere.
  2. Statistic at a position p: the worst residual RMS among BLOCKs within +-BOUNDARY_ZONE of p, in dB
     relative to the programme's RMS within +-CONTEXT (how loud the unexplained part is against what
     plays around it).
  3. Background: the same statistic at every AAC frame start at least BACKGROUND_DISTANCE from any
     boundary; source transients (a cue's onset mid-segment, a drum hit) show up there.
  4. A boundary is a discontinuity when its statistic is above AUDIBLE_RESIDUAL_DB *and* above the
     background's BACKGROUND_PERCENTILE-th percentile (not an outlier vs elsewhere: no defect).
  Boundaries closer than CONTEXT to either end are not judged (the measured text counts them). Limits:
  a defect smaller than the largest source transient elsewhere is missed, and a genuine click in the
  source that falls on a boundary counts as a defect; the reference method has neither limit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

AAC_FRAME = 1024
REFERENCE_WINDOW = 2 * AAC_FRAME
"""Samples either side of the boundary compared with the reference: the AAC overlap reaches one frame
back and one forward; two cover it with margin."""
FULL_SCALE_RMS = 1 / np.sqrt(2)
MAX_ERROR_DB = -30.0

BLOCK = AAC_FRAME // 2
"""Residual RMS is measured in blocks of this many samples."""
BOUNDARY_ZONE = AAC_FRAME
"""Blocks within this many samples of a boundary are judged: the AAC overlap-add spreads a defect over
the frame before and the frame after."""
CONTEXT = 16 * AAC_FRAME
"""Samples either side of a position whose RMS is the programme level a defect is heard against."""
REGION = 16 * AAC_FRAME
"""Samples sharing one fitted predictor (about a third of a second: music and tones change slowly)."""
LPC_ORDER = 32
REGULARISATION = 1e-9
"""Relative diagonal loading, so digital silence (a singular Gram matrix) still solves."""
BACKGROUND_DISTANCE = 4 * AAC_FRAME
"""Frame starts at least this far from every boundary form the background."""
BACKGROUND_PERCENTILE = 99
AUDIBLE_RESIDUAL_DB = -55.0
"""Residual this far under the programme is masked. Calibrated with the simulation in
tests/interop/test_conformance.py: continuous encodes measure -75 dB and lower at boundaries, per-segment
encodes (priming kept or dropped) -50 dB and higher."""
PROGRAMME_FLOOR = 1e-4
"""-80 dBFS: a quieter programme counts as this loud (digital silence must not make any residual loud)."""


def decibels(ratio: float) -> float:
    return 20 * np.log10(max(ratio, 1e-12))


def boundary_errors_against_reference(
    decoded: np.ndarray,
    first_sample: int,
    boundaries: list[int],
    reference_audio: Callable[[int, int], np.ndarray],
) -> tuple[list[str], str]:
    """(problems, measured): error RMS around each boundary against the source signal.

    `decoded[k]` is global sample `first_sample + k`; `boundaries` index `decoded`.
    """

    def error_at(position: int) -> float:
        start, end = max(0, position - REFERENCE_WINDOW), min(len(decoded), position + REFERENCE_WINDOW)
        expected = np.asarray(reference_audio(first_sample + start, end - start), dtype=np.float64)
        if expected.ndim == 2:
            expected = expected[0]
        return decibels(float(np.sqrt(np.mean((decoded[start:end] - expected) ** 2))) / FULL_SCALE_RMS)

    elsewhere = np.arange(REFERENCE_WINDOW, len(decoded) - REFERENCE_WINDOW, AAC_FRAME)
    if len(boundaries) and len(elsewhere):
        distance = np.abs(elsewhere[:, None] - np.array(boundaries)[None, :]).min(axis=1)
        elsewhere = elsewhere[distance >= BACKGROUND_DISTANCE]
    background = [error_at(int(position)) for position in elsewhere]
    limit = max(MAX_ERROR_DB, float(np.percentile(background, BACKGROUND_PERCENTILE))) if background else MAX_ERROR_DB
    problems, worst = [], -np.inf
    for boundary in boundaries:
        error_db = error_at(boundary)
        worst = max(worst, error_db)
        if error_db >= limit:
            problems.append(f"boundary at sample {first_sample + boundary}: error {error_db:.1f} dBFS (limit {limit:.1f})")
    return problems, (
        f"{len(boundaries)} boundaries vs reference, worst error {worst:.1f} dBFS (limit {limit:.1f}: "
        f"{MAX_ERROR_DB:.0f}, or the {BACKGROUND_PERCENTILE}th percentile of {len(background)} other AAC frame starts)"
    )


def prediction_residual(decoded: np.ndarray) -> np.ndarray:
    """The residual of order-LPC_ORDER linear predictors, one fitted per REGION by least squares.

    Boundaries are not left out of the fit: a region may hold a sound that exists only around a boundary
    (a tone ending there), and a predictor that never saw it would flag it. A defect of an AAC frame or
    two barely moves a fit over a whole region."""
    residual = np.zeros_like(decoded)
    for start in range(LPC_ORDER, len(decoded), REGION):
        end = min(len(decoded), start + REGION)
        if end - start <= 4 * LPC_ORDER:
            break
        history = np.lib.stride_tricks.sliding_window_view(decoded[start - LPC_ORDER : end - 1], LPC_ORDER)
        target = decoded[start:end]
        gram = history.T @ history  # normal equations: an order x order solve
        gram[np.diag_indices(LPC_ORDER)] += REGULARISATION * (np.trace(gram) / LPC_ORDER + 1e-12)
        coefficients = np.linalg.solve(gram, history.T @ target)
        residual[start:end] = target - history @ coefficients
    return residual


def residual_to_programme(decoded: np.ndarray, residual: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """For each position (a multiple of BLOCK with a full context): the worst residual block RMS within
    +-BOUNDARY_ZONE over the programme's RMS within +-CONTEXT, in dB."""
    blocks = len(residual) // BLOCK
    residual_rms = np.sqrt(np.mean(residual[: blocks * BLOCK].reshape(blocks, BLOCK) ** 2, axis=1))
    programme_power = np.mean(decoded[: blocks * BLOCK].reshape(blocks, BLOCK) ** 2, axis=1)
    centre = positions // BLOCK
    zone, context = BOUNDARY_ZONE // BLOCK, CONTEXT // BLOCK
    worst = np.max(np.stack([residual_rms[centre + k] for k in range(-zone, zone)]), axis=0)
    programme = np.sqrt(np.mean(np.stack([programme_power[centre + k] for k in range(-context, context)]), axis=0))
    return 20 * np.log10(np.maximum(worst, 1e-12) / np.maximum(programme, PROGRAMME_FLOOR))


def boundary_discontinuities(decoded: np.ndarray, boundaries: list[int]) -> tuple[list[str], str]:
    """(problems, measured): the prediction-residual outlier test at each boundary (module docstring)."""
    residual = prediction_residual(decoded)
    first, last = CONTEXT + LPC_ORDER, (len(decoded) // BLOCK) * BLOCK - CONTEXT
    judged = np.array([b for b in boundaries if first <= b < last and b % BLOCK == 0], dtype=int)
    skipped = len(boundaries) - len(judged)
    elsewhere = np.arange(-(-first // AAC_FRAME) * AAC_FRAME, last, AAC_FRAME)
    if len(boundaries):
        distance = np.abs(elsewhere[:, None] - np.array(boundaries)[None, :]).min(axis=1)
        elsewhere = elsewhere[distance >= BACKGROUND_DISTANCE]
    if not len(judged) or not len(elsewhere):
        return [], f"no boundary with {CONTEXT} samples of context on both sides: not judged"
    background = float(np.percentile(residual_to_programme(decoded, residual, elsewhere), BACKGROUND_PERCENTILE))
    limit = max(AUDIBLE_RESIDUAL_DB, background)
    levels = residual_to_programme(decoded, residual, judged)
    problems = [
        f"boundary at decoded sample {boundary}: residual {level:.1f} dB re programme (limit {limit:.1f} dB)"
        for boundary, level in zip(judged.tolist(), levels.tolist())
        if level > limit
    ]
    measured = (
        f"{len(judged)} boundaries by prediction residual (no reference): worst {float(levels.max()):.1f} dB re "
        f"programme; {len(elsewhere)} other AAC frame starts, {BACKGROUND_PERCENTILE}th percentile {background:.1f} dB; "
        f"limit {limit:.1f} dB" + (f"; {skipped} boundaries without context not judged" if skipped else "")
    )
    return problems, measured
