"""An animated stick figure for the sample clips: exercise poses and an anti-aliased drawer.

There is no real footage, so the sample clips show a figure performing each
exercise. A pose is a pure function of the loop phase in [0, 1) and is
periodic (``pose(0) == pose(1)``), so a clip of frames ``pose(i / n)`` loops
without a jump.

Coordinates are in figure units: a standing figure is about 1.0 tall, the
ground is y = 0, y points up and side views face +x. Limbs keep their length:
each pose places the pelvis, torso, hands and feet, and elbows and knees come
from two-bone inverse kinematics. In side views the ``_r`` limbs are the near
ones (drawn in front, lighter) and ``_l`` the far ones (drawn behind, darker).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from PIL import Image, ImageDraw, ImageFilter

Point = tuple[float, float]
Pose = dict[str, Point]
PoseFunction = Callable[[float], Pose]

JOINTS = (
    "head", "neck", "pelvis",
    "shoulder_l", "elbow_l", "hand_l", "shoulder_r", "elbow_r", "hand_r",
    "hip_l", "knee_l", "ankle_l", "toe_l", "hip_r", "knee_r", "ankle_r", "toe_r",
)  # fmt: skip

# Body proportions, in figure units.
UPPER_ARM = 0.16
FOREARM = 0.15
THIGH = 0.245
SHIN = 0.235
FOOT = 0.075
ANKLE_HEIGHT = 0.035
TORSO = 0.30
"""Pelvis to the base of the neck."""
SHOULDER_DROP = 0.03
"""Shoulders sit this far down the torso from the neck."""
HEAD_OFFSET = 0.105
"""Neck to head centre."""
HEAD_RADIUS = 0.068
FRONT_SHOULDER_HALF_WIDTH = 0.09
FRONT_HIP_HALF_WIDTH = 0.055
FAR_OFFSET = -0.018
"""In side views the far feet stand this far behind the near ones, so both legs show."""
STANDING_PELVIS = ANKLE_HEIGHT + SHIN + THIGH
LEG_REACH = THIGH + SHIN
ARM_REACH = UPPER_ARM + FOREARM
BODY_LINE = LEG_REACH + TORSO - SHOULDER_DROP
"""Ankle to shoulder of a straight body (plank, push-up)."""
FLAT_TOE = -22.0
"""Foot angle (degrees from +x) of a foot standing flat."""
POINTED_TOE = -70.0
"""Foot angle of a foot on its toes (plank, push-up) or pointed in the air."""

# Drawing.
LIMB_WIDTH = 0.05
TORSO_WIDTH = 0.075
NECK_WIDTH = 0.035
FIGURE_HEIGHT_FRACTION = 0.58
"""One figure unit as a fraction of the frame height."""
GROUND_FRACTION = 0.86
"""Height of the ground line, from the top, as a fraction of the frame height."""
SUPERSAMPLE = 4
"""Masks are drawn at this multiple and box-reduced: 17 coverage levels for a few ms."""
FAR_SHADE = 0.62
NEAR_TINT = 0.22
SHADOW_ALPHA = 80
SHADOW_HEIGHT = 0.035
SHADOW_BLUR = 0.012
"""Shadow softness, in figure units."""


# --- geometry -------------------------------------------------------------------------------------


def _add(a: Point, b: Point) -> Point:
    return a[0] + b[0], a[1] + b[1]


def _sub(a: Point, b: Point) -> Point:
    return a[0] - b[0], a[1] - b[1]


def _scale(a: Point, k: float) -> Point:
    return a[0] * k, a[1] * k


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _lerp_point(a: Point, b: Point, t: float) -> Point:
    return _lerp(a[0], b[0], t), _lerp(a[1], b[1], t)


def _polar(degrees_from_down: float, length: float) -> Point:
    """Vector of `length` rotated from straight down towards +x by the angle."""
    radians = math.radians(degrees_from_down)
    return length * math.sin(radians), -length * math.cos(radians)


def _smoothstep(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3 - 2 * t)


def _wave(phase: float, cycles: int = 1) -> float:
    """0 at phase 0, 1 halfway through each cycle, back to 0: the basic periodic motion."""
    return (1 - math.cos(2 * math.pi * cycles * phase)) / 2


def _two_bone(root: Point, target: Point, upper: float, lower: float, bend: int) -> tuple[Point, Point]:
    """Middle joint and end of a two-segment limb reaching for `target`.

    `bend` +1 puts the middle joint counter-clockwise of the root-target line
    (a knee in front of a downward leg facing +x), -1 clockwise (an elbow
    behind). Out-of-reach targets leave the limb straight, pointing at them.
    """
    dx, dy = target[0] - root[0], target[1] - root[1]
    distance = math.hypot(dx, dy)
    reach = min(max(distance, abs(upper - lower) + 1e-6), upper + lower - 1e-6)
    direction = math.atan2(dy, dx) if distance > 1e-9 else -math.pi / 2
    cos_angle = (upper * upper + reach * reach - lower * lower) / (2 * upper * reach)
    angle = direction + bend * math.acos(max(-1.0, min(1.0, cos_angle)))
    middle = (root[0] + upper * math.cos(angle), root[1] + upper * math.sin(angle))
    end = (root[0] + reach * math.cos(direction), root[1] + reach * math.sin(direction))
    return middle, end


@dataclass(frozen=True)
class SideRig:
    """The few numbers a side-view pose is made of; `side_pose` solves the rest."""

    pelvis: Point
    torso: float
    """Degrees the torso leans forward from upright (90 = lying face down)."""
    hand_far: Point
    hand_near: Point
    ankle_far: Point
    ankle_near: Point
    toe_far: float = FLAT_TOE
    toe_near: float = FLAT_TOE
    head_tilt: float = 0.0
    """Degrees the head turns up (negative) or down from the torso direction."""


def _mix_rigs(a: SideRig, b: SideRig, t: float) -> SideRig:
    return SideRig(
        pelvis=_lerp_point(a.pelvis, b.pelvis, t),
        torso=_lerp(a.torso, b.torso, t),
        hand_far=_lerp_point(a.hand_far, b.hand_far, t),
        hand_near=_lerp_point(a.hand_near, b.hand_near, t),
        ankle_far=_lerp_point(a.ankle_far, b.ankle_far, t),
        ankle_near=_lerp_point(a.ankle_near, b.ankle_near, t),
        toe_far=_lerp(a.toe_far, b.toe_far, t),
        toe_near=_lerp(a.toe_near, b.toe_near, t),
        head_tilt=_lerp(a.head_tilt, b.head_tilt, t),
    )


def paired_rig(
    pelvis: Point, torso: float, hand: Point, ankle: Point, toe: float, head_tilt: float, hand_gap: float = 0.02
) -> SideRig:
    """A side-view rig whose far limbs mirror the near ones: the far hand `hand_gap` behind, the far
    ankle FAR_OFFSET behind, both feet at the same angle (most poses of the library)."""
    return SideRig(
        pelvis=pelvis,
        torso=torso,
        hand_far=_add(hand, (-hand_gap, 0.0)),
        hand_near=hand,
        ankle_far=_add(ankle, (FAR_OFFSET, 0.0)),
        ankle_near=ankle,
        toe_far=toe,
        toe_near=toe,
        head_tilt=head_tilt,
    )


def _toe(ankle: Point, degrees: float) -> Point:
    radians = math.radians(degrees)
    return ankle[0] + FOOT * math.cos(radians), ankle[1] + FOOT * math.sin(radians)


def side_pose(rig: SideRig) -> Pose:
    """Joint positions of a side view: knees bend forward, elbows back."""
    torso = math.radians(rig.torso)
    up = (math.sin(torso), math.cos(torso))
    neck = _add(rig.pelvis, _scale(up, TORSO))
    shoulder = _add(neck, _scale(up, -SHOULDER_DROP))
    head_angle = math.radians(rig.torso + rig.head_tilt)
    head = _add(neck, (HEAD_OFFSET * math.sin(head_angle), HEAD_OFFSET * math.cos(head_angle)))
    elbow_l, hand_l = _two_bone(shoulder, rig.hand_far, UPPER_ARM, FOREARM, bend=-1)
    elbow_r, hand_r = _two_bone(shoulder, rig.hand_near, UPPER_ARM, FOREARM, bend=-1)
    knee_l, ankle_l = _two_bone(rig.pelvis, rig.ankle_far, THIGH, SHIN, bend=1)
    knee_r, ankle_r = _two_bone(rig.pelvis, rig.ankle_near, THIGH, SHIN, bend=1)
    return {
        "head": head, "neck": neck, "pelvis": rig.pelvis,
        "shoulder_l": shoulder, "elbow_l": elbow_l, "hand_l": hand_l,
        "shoulder_r": shoulder, "elbow_r": elbow_r, "hand_r": hand_r,
        "hip_l": rig.pelvis, "knee_l": knee_l, "ankle_l": ankle_l, "toe_l": _toe(ankle_l, rig.toe_far),
        "hip_r": rig.pelvis, "knee_r": knee_r, "ankle_r": ankle_r, "toe_r": _toe(ankle_r, rig.toe_near),
    }  # fmt: skip


def _torso_towards(pelvis: Point, target: Point) -> float:
    """Forward lean (degrees from upright) that points the torso from `pelvis` at `target`."""
    return math.degrees(math.atan2(target[0] - pelvis[0], target[1] - pelvis[1]))


def _straight_body(ankle: Point, shoulder_height: float, hip_lift: float = 0.0) -> tuple[Point, float]:
    """Pelvis and torso lean of a body held straight from `ankle` to shoulders at `shoulder_height`."""
    incline = math.asin((shoulder_height - ankle[1]) / BODY_LINE)
    direction = (math.cos(incline), math.sin(incline))
    shoulder = _add(ankle, _scale(direction, BODY_LINE))
    pelvis = _add(_add(ankle, _scale(direction, LEG_REACH)), (0.0, hip_lift))
    return pelvis, _torso_towards(pelvis, shoulder)


# --- exercises ------------------------------------------------------------------------------------


def _phase(phase: float) -> float:
    """Wrap into [0, 1): makes pose(1) exactly pose(0)."""
    return phase % 1.0


def squat(phase: float) -> Pose:
    """Hips back and down to thighs parallel, torso leaning, arms rising forward for balance."""
    depth = _wave(_phase(phase))
    pelvis = (-0.17 * depth, STANDING_PELVIS - 0.25 * depth)
    torso = 38.0 * depth
    shoulder = _add(pelvis, _polar(180.0 - torso, TORSO - SHOULDER_DROP))
    hand = _add(shoulder, _polar(8.0 + 84.0 * depth, ARM_REACH - 0.01))
    return side_pose(
        SideRig(
            pelvis=pelvis,
            torso=torso,
            hand_far=_add(hand, (-0.02, 0.0)),
            hand_near=hand,
            ankle_far=(FAR_OFFSET, ANKLE_HEIGHT),
            ankle_near=(0.0, ANKLE_HEIGHT),
            head_tilt=-0.8 * torso,
        )
    )


_JACK_ELBOW_BEND = 20.0
"""Degrees the forearm turns further than the upper arm: elbows stay outside, hands meet overhead."""
_JACK_HIP_DROP = 0.02
"""Front view: hip joints sit this far below the pelvis point."""


def jumping_jack(phase: float) -> Pose:
    """Front view: a hop out to spread legs with arms overhead, and a hop back in."""
    phase = _phase(phase)
    spread = _wave(phase)
    hop = 0.055 * abs(math.sin(2 * math.pi * phase))
    leg_angle = 4.0 + 20.0 * spread
    arm_angle = 14.0 + 152.0 * spread
    leg_reach = LEG_REACH - 0.003
    pelvis = (0.0, ANKLE_HEIGHT + _JACK_HIP_DROP + leg_reach * math.cos(math.radians(leg_angle)) + hop)
    neck = (0.0, pelvis[1] + TORSO)
    head = (0.0, neck[1] + HEAD_OFFSET)
    pose: Pose = {"head": head, "neck": neck, "pelvis": pelvis}
    for side, sign in (("l", -1), ("r", 1)):
        shoulder = (sign * FRONT_SHOULDER_HALF_WIDTH, neck[1] - SHOULDER_DROP)
        elbow = _add(shoulder, _polar(sign * (arm_angle - _JACK_ELBOW_BEND / 2), UPPER_ARM))
        hand = _add(elbow, _polar(sign * (arm_angle + _JACK_ELBOW_BEND / 2), FOREARM))
        hip = (sign * FRONT_HIP_HALF_WIDTH, pelvis[1] - _JACK_HIP_DROP)
        ankle_target = _add(hip, _polar(sign * leg_angle, leg_reach))
        knee, ankle = _two_bone(hip, ankle_target, THIGH, SHIN, bend=sign)
        toe = _add(ankle, (sign * 0.045, -0.03))
        pose |= {
            f"shoulder_{side}": shoulder, f"elbow_{side}": elbow, f"hand_{side}": hand,
            f"hip_{side}": hip, f"knee_{side}": knee, f"ankle_{side}": ankle, f"toe_{side}": toe,
        }  # fmt: skip
    return pose


_PUSH_UP_ANKLE = (-0.52, 0.075)
_PUSH_UP_TOP = 0.325
_PUSH_UP_BOTTOM = 0.135
_PUSH_UP_HAND = (0.225, 0.02)


def push_up(phase: float) -> Pose:
    """Straight body pivoting on the toes, lowered to a hand's width off the floor and pressed up."""
    shoulder_height = _lerp(_PUSH_UP_TOP, _PUSH_UP_BOTTOM, _wave(_phase(phase)))
    pelvis, torso = _straight_body(_PUSH_UP_ANKLE, shoulder_height)
    return side_pose(
        paired_rig(
            pelvis=pelvis,
            torso=torso,
            hand=_PUSH_UP_HAND,
            ankle=_PUSH_UP_ANKLE,
            toe=POINTED_TOE,
            head_tilt=-12.0,
        )
    )


_LUNGE_STRIDE = 0.36
_LUNGE_STEP = 0.25
"""Fraction of each half-cycle spent stepping out (and again stepping back)."""
_LUNGE_DEPTH = 0.21


def lunge(phase: float) -> Pose:
    """Alternating forward lunges: the near leg steps out in the first half, the far leg in the second."""
    phase = _phase(phase)
    near_leads = phase < 0.5
    local = phase * 2 % 1.0
    if local < _LUNGE_STEP:
        out, lift = _smoothstep(local / _LUNGE_STEP), math.sin(math.pi * local / _LUNGE_STEP)
    elif local > 1 - _LUNGE_STEP:
        out, lift = _smoothstep((1 - local) / _LUNGE_STEP), math.sin(math.pi * (1 - local) / _LUNGE_STEP)
    else:
        out, lift = 1.0, 0.0
    hold = (local - _LUNGE_STEP) / (1 - 2 * _LUNGE_STEP)
    depth = math.sin(math.pi * hold) ** 2 if 0 < hold < 1 else 0.0
    front = (_LUNGE_STRIDE * out, ANKLE_HEIGHT + 0.05 * lift)
    back = (0.0, ANKLE_HEIGHT + 0.035 * out)
    pelvis = (0.45 * front[0], STANDING_PELVIS - 0.05 * out - _LUNGE_DEPTH * depth)
    back_toe = _lerp(FLAT_TOE, -62.0, out)
    hand_near = _add(pelvis, (0.035, 0.035))
    hand_far = _add(pelvis, (-0.03, 0.035))
    lead, trail = (front, _add(back, (FAR_OFFSET, 0.0))) if near_leads else (_add(front, (FAR_OFFSET, 0.0)), back)
    return side_pose(
        SideRig(
            pelvis=pelvis,
            torso=4.0,
            hand_far=hand_far,
            hand_near=hand_near,
            ankle_far=trail if near_leads else lead,
            ankle_near=lead if near_leads else trail,
            toe_far=back_toe if near_leads else FLAT_TOE,
            toe_near=FLAT_TOE if near_leads else back_toe,
        )
    )


_PLANK_ANKLE = (-0.6, 0.075)
_PLANK_ELBOW_HEIGHT = 0.03


def plank(phase: float) -> Pose:
    """Forearm plank held still apart from breathing: shoulders and hips rise a little."""
    breath = _wave(_phase(phase))
    shoulder_height = _PLANK_ELBOW_HEIGHT + UPPER_ARM + 0.004 * breath
    pelvis, torso = _straight_body(_PLANK_ANKLE, shoulder_height, hip_lift=0.008 * breath)
    shoulder = _add(pelvis, _polar(180.0 - torso, TORSO - SHOULDER_DROP))
    hand = (shoulder[0] + FOREARM, _PLANK_ELBOW_HEIGHT)
    return side_pose(
        paired_rig(
            pelvis=pelvis,
            torso=torso,
            hand=hand,
            ankle=_PLANK_ANKLE,
            toe=POINTED_TOE,
            head_tilt=-6.0 - 3.0 * breath,
        )
    )


def _standing_rig(knee_dip: float = 0.0) -> SideRig:
    """Upright, arms hanging; `knee_dip` lowers the pelvis with the feet still on the floor."""
    pelvis = (0.0, STANDING_PELVIS - knee_dip)
    return SideRig(
        pelvis=pelvis,
        torso=2.0 + 40.0 * knee_dip,
        hand_far=(-0.01, pelvis[1] - 0.02),
        hand_near=(0.03, pelvis[1] - 0.02),
        ankle_far=(FAR_OFFSET, ANKLE_HEIGHT),
        ankle_near=(0.0, ANKLE_HEIGHT),
    )


_BURPEE_HANDS = (0.2, 0.02)
_BURPEE_SQUAT = SideRig(
    pelvis=(-0.1, 0.22),
    torso=70.0,
    hand_far=_add(_BURPEE_HANDS, (-0.02, 0.0)),
    hand_near=_BURPEE_HANDS,
    ankle_far=(FAR_OFFSET, ANKLE_HEIGHT),
    ankle_near=(0.0, ANKLE_HEIGHT),
    head_tilt=-35.0,
)
_BURPEE_PLANK_ANKLE = (-0.53, 0.075)


def _burpee_plank() -> SideRig:
    pelvis, torso = _straight_body(_BURPEE_PLANK_ANKLE, _BURPEE_HANDS[1] + ARM_REACH - 0.01)
    return paired_rig(
        pelvis=pelvis,
        torso=torso,
        hand=_BURPEE_HANDS,
        ankle=_BURPEE_PLANK_ANKLE,
        toe=POINTED_TOE,
        head_tilt=-12.0,
    )


def _burpee_jump() -> SideRig:
    lift = 0.13
    pelvis = (0.0, STANDING_PELVIS + lift)
    shoulder = _add(pelvis, (0.0, TORSO - SHOULDER_DROP))
    return SideRig(
        pelvis=pelvis,
        torso=-3.0,
        hand_far=_add(shoulder, (0.03, ARM_REACH)),
        hand_near=_add(shoulder, (0.07, ARM_REACH)),
        ankle_far=(FAR_OFFSET, ANKLE_HEIGHT + lift),
        ankle_near=(0.0, ANKLE_HEIGHT + lift),
        toe_far=POINTED_TOE + 10.0,
        toe_near=POINTED_TOE + 10.0,
        head_tilt=-8.0,
    )


def _burpee_swing(knee_dip: float) -> SideRig:
    """Knees bent, arms swung forward: rising into the jump, and again landing from it."""
    rig = _standing_rig(knee_dip=knee_dip)
    shoulder = _add(rig.pelvis, _polar(180.0 - rig.torso, TORSO - SHOULDER_DROP))
    return replace(rig, hand_far=_add(shoulder, (0.22, -0.16)), hand_near=_add(shoulder, (0.25, -0.14)))


_BURPEE_FOOT_ARC = 0.07
_BURPEE_HIP_ARC = 0.8
"""Hips rise this fraction of the feet's arc when the feet jump back or in."""
_BURPEE_KEYS: tuple[tuple[float, SideRig, float], ...] = (
    # (phase at which this key is reached, key, foot arc height on the way to it)
    (0.0, _standing_rig(), 0.0),
    (0.17, _BURPEE_SQUAT, 0.0),
    (0.32, _burpee_plank(), _BURPEE_FOOT_ARC),
    (0.47, _burpee_plank(), 0.0),
    (0.62, _BURPEE_SQUAT, _BURPEE_FOOT_ARC),
    (0.72, _burpee_swing(knee_dip=0.1), 0.0),
    (0.80, _burpee_jump(), 0.0),
    (0.88, _burpee_swing(knee_dip=0.07), 0.0),
    (1.0, _standing_rig(), 0.0),
)


def burpee(phase: float) -> Pose:
    """Squat with hands down, jump the feet back to a plank, jump them in, jump up with arms overhead, land."""
    phase = _phase(phase)
    for (start, key_a, _), (end, key_b, arc) in zip(_BURPEE_KEYS, _BURPEE_KEYS[1:]):
        if phase < end:
            t = (phase - start) / (end - start)
            rig = _mix_rigs(key_a, key_b, _smoothstep(t))
            if arc:
                # A hop: feet and, less, hips rise on the way so the legs swing clear of the floor.
                lift = arc * math.sin(math.pi * t)
                rig = replace(
                    rig,
                    pelvis=_add(rig.pelvis, (0.0, _BURPEE_HIP_ARC * lift)),
                    ankle_far=_add(rig.ankle_far, (0.0, lift)),
                    ankle_near=_add(rig.ankle_near, (0.0, lift)),
                )
            return side_pose(rig)
    raise AssertionError("unreachable: the last key is at phase 1")


def _lift(rig: SideRig, height: float) -> SideRig:
    """The whole rig moved up: a jump."""
    up = (0.0, height)
    return replace(
        rig,
        pelvis=_add(rig.pelvis, up),
        hand_far=_add(rig.hand_far, up),
        hand_near=_add(rig.hand_near, up),
        ankle_far=_add(rig.ankle_far, up),
        ankle_near=_add(rig.ankle_near, up),
    )


def _alternating(phase: float) -> tuple[float, float]:
    """Near and far limb effort of an alternating move: each rises and falls in its own half of the loop."""
    near = math.sin(math.pi * 2 * phase) ** 2 if phase < 0.5 else 0.0
    far = math.sin(math.pi * 2 * phase) ** 2 if phase >= 0.5 else 0.0
    return near, far


_CLIMBER_ANKLE = (-0.52, 0.075)
_CLIMBER_HAND = (0.225, 0.02)
_CLIMBER_SHOULDER_HEIGHT = 0.315
_CLIMBER_FAR_OFFSET = -0.006
"""Far foot behind the near one: less than FAR_OFFSET, as the straight legs reach no further."""
_CLIMBER_HIP_RISE = 10.0
"""Degrees the planted leg turns up about its foot as the other knee drives in."""
_CLIMBER_THIGH_IN = -42.0
"""Direction (degrees from +x) of a driven thigh at its furthest: knee towards the chest."""
_CLIMBER_KNEE_FLEX = 125.0
"""Degrees a driven knee bends at its furthest."""


def mountain_climber(phase: float) -> Pose:
    """High plank, the knees driven towards the chest in turn, the hips rising a little with each."""
    near, far = _alternating(_phase(phase))
    flat_pelvis, _ = _straight_body(_CLIMBER_ANKLE, _CLIMBER_SHOULDER_HEIGHT)
    shoulder = _add(flat_pelvis, _scale(_sub(flat_pelvis, _CLIMBER_ANKLE), BODY_LINE / LEG_REACH - 1))
    # the hips rise by turning the planted leg about its foot, so it keeps its length
    incline = math.atan2(flat_pelvis[1] - _CLIMBER_ANKLE[1], flat_pelvis[0] - _CLIMBER_ANKLE[0])
    incline += math.radians(_CLIMBER_HIP_RISE) * max(near, far)
    pelvis = _add(_CLIMBER_ANKLE, _scale((math.cos(incline), math.sin(incline)), LEG_REACH - 1e-4))
    torso = _torso_towards(pelvis, shoulder)

    def foot(drive: float, planted: Point) -> Point:
        """A driven leg swings its thigh forward and folds its knee (first); a planted one stays on its toes."""
        rest_knee, rest_ankle = _two_bone(pelvis, planted, THIGH, SHIN, bend=1)
        rest_thigh = math.degrees(math.atan2(rest_knee[1] - pelvis[1], rest_knee[0] - pelvis[0]))
        rest_shin = math.degrees(math.atan2(rest_ankle[1] - rest_knee[1], rest_ankle[0] - rest_knee[0]))
        thigh = math.radians(_lerp(rest_thigh, _CLIMBER_THIGH_IN, drive))
        shin = thigh - math.radians(_lerp(rest_thigh - rest_shin, _CLIMBER_KNEE_FLEX, 1 - (1 - drive) ** 3))
        knee = _add(pelvis, _scale((math.cos(thigh), math.sin(thigh)), THIGH))
        return _add(knee, _scale((math.cos(shin), math.sin(shin)), SHIN))

    return side_pose(
        SideRig(
            pelvis=pelvis,
            torso=torso,
            hand_far=_add(_CLIMBER_HAND, (-0.02, 0.0)),
            hand_near=_CLIMBER_HAND,
            ankle_far=foot(far, _add(_CLIMBER_ANKLE, (_CLIMBER_FAR_OFFSET, 0.0))),
            ankle_near=foot(near, _CLIMBER_ANKLE),
            toe_far=POINTED_TOE + 25.0 * far,
            toe_near=POINTED_TOE + 25.0 * near,
            head_tilt=-15.0,
        )
    )


_KNEES_HOP = 0.05
_KNEES_UP = (0.2, -0.25)
"""A raised foot, from the pelvis: thigh about level, shin hanging."""


def high_knees(phase: float) -> Pose:
    """Running on the spot: knees up to hip height in turn, a little hop at each change of leg, arms pumping."""
    phase = _phase(phase)
    near, far = _alternating(phase)
    hop = _KNEES_HOP * math.cos(2 * math.pi * phase) ** 2
    pelvis = (0.0, STANDING_PELVIS - 0.015 + hop)
    torso = 6.0
    shoulder = _add(pelvis, _polar(180.0 - torso, TORSO - SHOULDER_DROP))
    swing = math.sin(2 * math.pi * phase)  # +1: near knee up, so far arm forward and near arm back

    def foot(lift: float, offset: float) -> Point:
        down = (offset, ANKLE_HEIGHT + hop)
        return _lerp_point(down, _add(pelvis, _add(_KNEES_UP, (offset, 0.0))), lift)

    def hand(forward: float) -> Point:
        return _add(shoulder, _polar(_lerp(-25.0, 75.0, (1 + forward) / 2), 0.22))

    airborne = hop / _KNEES_HOP
    return side_pose(
        SideRig(
            pelvis=pelvis,
            torso=torso,
            hand_far=hand(swing),
            hand_near=hand(-swing),
            ankle_far=foot(far, FAR_OFFSET),
            ankle_near=foot(near, 0.0),
            toe_far=_lerp(_lerp(FLAT_TOE, -45.0, airborne), -60.0, far),
            toe_near=_lerp(_lerp(FLAT_TOE, -45.0, airborne), -60.0, near),
            head_tilt=-4.0,
        )
    )


_LYING_HEAD_HEIGHT = 0.072
"""Centre height of a head resting on the floor: its radius and a little."""


def _supine(pelvis: Point, shoulder: Point, feet: Point, hands: tuple[Point, Point], nod: float = 0.0) -> SideRig:
    """Lying on the back, head towards -x, knees bent and feet flat at `feet`; the head rests on the floor
    (or, with `nod` degrees, is tucked towards the chest)."""
    torso = _torso_towards(pelvis, shoulder)
    up = math.radians(torso)
    neck_height = pelvis[1] + TORSO * math.cos(up)
    resting = -math.degrees(math.acos(max(-1.0, min(1.0, (_LYING_HEAD_HEIGHT - neck_height) / HEAD_OFFSET))))
    return SideRig(
        pelvis=pelvis,
        torso=torso,
        hand_far=hands[0],
        hand_near=hands[1],
        ankle_far=_add(feet, (FAR_OFFSET, 0.0)),
        ankle_near=feet,
        head_tilt=max(resting, -90.0 + nod) - torso,
    )


_LYING_HEIGHT = 0.045
"""Height of the pelvis and shoulder points of a figure lying on the floor (the torso's half width and a bit)."""
_BRIDGE_SHOULDER = (-(TORSO - SHOULDER_DROP), _LYING_HEIGHT)
_BRIDGE_FEET = (0.33, ANKLE_HEIGHT)
_BRIDGE_LIFT = 36.0
"""Degrees the torso turns about the shoulders at the top of the bridge."""


def glute_bridge(phase: float) -> Pose:
    """Lying on the back, feet flat, arms along the floor: hips pushed up to a straight line and lowered."""
    lift = math.radians(_BRIDGE_LIFT * _smoothstep(_wave(_phase(phase))))
    pelvis = _add(_BRIDGE_SHOULDER, _scale((math.cos(lift), math.sin(lift)), TORSO - SHOULDER_DROP))
    along_floor = _add(_BRIDGE_SHOULDER, (1.0, -0.04))
    hands = (_add(along_floor, (-0.02, 0.0)), along_floor)
    return side_pose(_supine(pelvis, _BRIDGE_SHOULDER, _BRIDGE_FEET, hands))


_CRUNCH_PELVIS = (0.0, _LYING_HEIGHT)
_CRUNCH_FEET = (0.31, ANKLE_HEIGHT)
_CRUNCH_CURL = 32.0
"""Degrees the shoulders curl up off the floor."""


def crunch(phase: float) -> Pose:
    """Lying on the back, knees bent, hands behind the head: the shoulders curl up and back down."""
    curl = math.radians(_CRUNCH_CURL * _wave(_phase(phase)))
    shoulder = _add(_CRUNCH_PELVIS, _scale((-math.cos(curl), math.sin(curl)), TORSO - SHOULDER_DROP))
    rig = _supine(_CRUNCH_PELVIS, shoulder, _CRUNCH_FEET, ((0.0, 0.0), (0.0, 0.0)), nod=18.0)
    head = side_pose(rig)["head"]
    return side_pose(replace(rig, hand_far=_add(head, (0.005, -0.045)), hand_near=_add(head, (0.02, -0.04))))


_CALF_TOE = (FOOT * math.cos(math.radians(FLAT_TOE)), ANKLE_HEIGHT + FOOT * math.sin(math.radians(FLAT_TOE)))
"""Where the ball of the foot stands; it stays there as the heels rise."""
_CALF_RISE = -72.0


def calf_raise(phase: float) -> Pose:
    """Standing tall, hands on the hips: up onto the balls of the feet and slowly back down."""
    angle = _lerp(FLAT_TOE, _CALF_RISE, _smoothstep(_wave(_phase(phase))))
    ankle = _add(_CALF_TOE, _polar(angle - 90.0, FOOT))
    pelvis = (ankle[0] - 0.01, ankle[1] + LEG_REACH - 0.002)
    return side_pose(
        SideRig(
            pelvis=pelvis,
            torso=1.0,
            hand_far=_add(pelvis, (-0.05, 0.06)),
            hand_near=_add(pelvis, (0.03, 0.06)),
            ankle_far=_add(ankle, (FAR_OFFSET, 0.0)),
            ankle_near=ankle,
            toe_far=angle,
            toe_near=angle,
        )
    )


_KNEE_PUSH_UP_KNEE = (-0.24, 0.025)
_KNEE_PUSH_UP_HAND = (0.235, 0.02)
_KNEE_PUSH_UP_TOP = 0.31
_KNEE_PUSH_UP_BOTTOM = 0.14
_BACKWARD_FLAT_TOE = -180.0 - FLAT_TOE
"""Foot angle of a foot lying on its instep behind a kneeling figure."""


def knee_push_up(phase: float) -> Pose:
    """Push-up pivoting on the knees, shins on the floor: a straight line from knees to shoulders."""
    shoulder_height = _lerp(_KNEE_PUSH_UP_TOP, _KNEE_PUSH_UP_BOTTOM, _wave(_phase(phase)))
    knee_to_shoulder = THIGH + TORSO - SHOULDER_DROP
    incline = math.asin((shoulder_height - _KNEE_PUSH_UP_KNEE[1]) / knee_to_shoulder)
    direction = (math.cos(incline), math.sin(incline))
    pelvis = _add(_KNEE_PUSH_UP_KNEE, _scale(direction, THIGH))
    shoulder = _add(_KNEE_PUSH_UP_KNEE, _scale(direction, knee_to_shoulder))
    shin_drop = math.asin((ANKLE_HEIGHT - _KNEE_PUSH_UP_KNEE[1]) / SHIN)
    ankle = _add(_KNEE_PUSH_UP_KNEE, (-SHIN * math.cos(shin_drop), SHIN * math.sin(shin_drop)))
    return side_pose(
        paired_rig(
            pelvis=pelvis,
            torso=_torso_towards(pelvis, shoulder),
            hand=_KNEE_PUSH_UP_HAND,
            ankle=ankle,
            toe=_BACKWARD_FLAT_TOE,
            head_tilt=-12.0,
        )
    )


_PIKE_ANKLE = (-0.4, 0.075)
_PIKE_HAND = (0.0, 0.02)
_PIKE_LEGS = (72.0, 54.0)
"""Leg angle from the floor, top and bottom: the hips travel forward as the head goes down."""
_PIKE_TORSO_BOTTOM = 160.0
"""Torso lean at the bottom; at the top the torso is in line with the arms."""


def pike_push_up(phase: float) -> Pose:
    """Inverted V on hands and toes: elbows bend to lower the head towards the floor, then press back up."""
    depth = _smoothstep(_wave(_phase(phase)))
    legs = math.radians(_lerp(*_PIKE_LEGS, depth))
    pelvis = _add(_PIKE_ANKLE, _scale((math.cos(legs), math.sin(legs)), LEG_REACH - 1e-4))
    top_legs = math.radians(_PIKE_LEGS[0])
    top = _add(_PIKE_ANKLE, _scale((math.cos(top_legs), math.sin(top_legs)), LEG_REACH - 1e-4))
    return side_pose(
        paired_rig(
            pelvis=pelvis,
            torso=_lerp(_torso_towards(top, _PIKE_HAND), _PIKE_TORSO_BOTTOM, depth),
            hand=_PIKE_HAND,
            ankle=_PIKE_ANKLE,
            toe=POINTED_TOE,
            head_tilt=-25.0,
        )
    )


def _jump_squat_rig(depth: float, arms: float, rise: float) -> SideRig:
    """Squat of `depth` (1: thighs level), arms at `arms` degrees forward from hanging, heels up by `rise`
    (0: feet flat, 1: on the toes, legs straight for take-off or touch-down)."""
    toe_angle = _lerp(FLAT_TOE, POINTED_TOE, rise)
    ankle = _add(_CALF_TOE, _polar(toe_angle - 90.0, FOOT))
    pelvis = (ankle[0] - 0.02 * rise - 0.17 * depth, ankle[1] + LEG_REACH - 0.002 - 0.25 * depth)
    torso = 2.0 + 36.0 * depth
    shoulder = _add(pelvis, _polar(180.0 - torso, TORSO - SHOULDER_DROP))
    hand = _add(shoulder, _polar(arms, ARM_REACH - 0.01))
    return paired_rig(
        pelvis=pelvis,
        torso=torso,
        hand=hand,
        ankle=ankle,
        toe=toe_angle,
        head_tilt=-4.0 - 0.8 * torso,
        hand_gap=0.025,
    )


_JUMP_SQUAT_HEIGHT = 0.17
_JUMP_SQUAT_KEYS: tuple[tuple[float, tuple[float, float, float]], ...] = (
    # (phase, (depth, arms, rise)); the figure is in the air between the two keys on its toes
    (0.0, (1.0, -25.0, 0.0)),
    (0.24, (0.0, 155.0, 1.0)),
    (0.62, (0.0, 155.0, 1.0)),
    (0.80, (0.55, 60.0, 0.0)),
    (1.0, (1.0, -25.0, 0.0)),
)


def jump_squat(phase: float) -> Pose:
    """Deep squat, arms back; explode upwards with the arms overhead; land softly back into the squat."""
    phase = _phase(phase)
    for (start, key_a), (end, key_b) in zip(_JUMP_SQUAT_KEYS, _JUMP_SQUAT_KEYS[1:]):
        if phase < end:
            t = (phase - start) / (end - start)
            if key_a == key_b:  # flight: a parabola, toes pointing a little less at the top
                rig = _lift(_jump_squat_rig(*key_a), _JUMP_SQUAT_HEIGHT * 4 * t * (1 - t))
                tuck = 10.0 * math.sin(math.pi * t)
                return side_pose(replace(rig, toe_far=rig.toe_far + tuck, toe_near=rig.toe_near + tuck))
            eased = _smoothstep(t)
            return side_pose(_jump_squat_rig(*(_lerp(a, b, eased) for a, b in zip(key_a, key_b))))
    raise AssertionError("unreachable: the last key is at phase 1")


_INCHWORM_FEET = (0.0, ANKLE_HEIGHT)
_INCHWORM_FOLD_PELVIS = (-0.07, STANDING_PELVIS - 0.03)
_INCHWORM_PIKE_LEGS = 62.0
"""Leg angle from the floor halfway out, hips high."""
_INCHWORM_FOLD_HANDS = 0.2
_INCHWORM_PLANK_HANDS = 0.74
_INCHWORM_PLANK_SHOULDERS = 0.325
_INCHWORM_STEPS = 6
"""Hand steps out to the plank (and as many back), the hands taking turns, the near one first."""
_INCHWORM_HAND_LIFT = 0.04


def _inchworm_body(reach: float, hands: Point) -> SideRig:
    """Folded (`reach` 0) through a pike (0.5) to a high plank (1), the torso towards the hands at `hands`."""
    if reach < 0.5:
        t = reach * 2
        ankle = (_INCHWORM_FEET[0], _lerp(ANKLE_HEIGHT, ANKLE_HEIGHT + 0.025, t))
        # legs swing from the fold's soft knees to the pike's straight ones about the ankle
        fold = _sub(_INCHWORM_FOLD_PELVIS, _INCHWORM_FEET)
        legs = _lerp(math.atan2(fold[1], fold[0]), math.radians(_INCHWORM_PIKE_LEGS), t)
        pelvis = _add(ankle, _scale((math.cos(legs), math.sin(legs)), _lerp(math.hypot(*fold), LEG_REACH - 1e-4, t)))
        torso = _torso_towards(pelvis, hands)
        toe = _lerp(FLAT_TOE, -45.0, t)
    else:
        t = reach * 2 - 1
        ankle = (_INCHWORM_FEET[0], _lerp(ANKLE_HEIGHT + 0.025, 0.075, t))
        plank_pelvis, plank_torso = _straight_body(ankle, _INCHWORM_PLANK_SHOULDERS)
        plank_legs = math.atan2(plank_pelvis[1] - ankle[1], plank_pelvis[0] - ankle[0])
        legs = _lerp(math.radians(_INCHWORM_PIKE_LEGS), plank_legs, _smoothstep(t))
        pelvis = _add(ankle, _scale((math.cos(legs), math.sin(legs)), LEG_REACH - 1e-4))
        torso = _lerp(_torso_towards(pelvis, hands), plank_torso, t)
        toe = _lerp(-45.0, POINTED_TOE, t)
    return SideRig(
        pelvis=pelvis,
        torso=torso,
        hand_far=(0.0, 0.0),
        hand_near=(0.0, 0.0),
        ankle_far=_add(ankle, (FAR_OFFSET, 0.0)),
        ankle_near=ankle,
        toe_far=toe,
        toe_near=toe,
        head_tilt=-25.0,
    )


def _inchworm_hand(progress: float, first_step: int) -> Point:
    """A hand walking out over `progress` 0..1: it moves on every other step, starting with `first_step`."""
    steps = progress * _INCHWORM_STEPS
    moved = lift = 0.0
    for step in range(first_step, _INCHWORM_STEPS, 2):
        local = min(1.0, max(0.0, steps - step))
        moved += _smoothstep(local)
        lift += math.sin(math.pi * local)
    span = _INCHWORM_PLANK_HANDS - _INCHWORM_FOLD_HANDS
    return _INCHWORM_FOLD_HANDS + span * moved / (_INCHWORM_STEPS // 2), 0.02 + _INCHWORM_HAND_LIFT * lift


def _inchworm_walk(progress: float) -> SideRig:
    """Hands `progress` of the way out (0: at the feet, 1: in the plank), the body following their middle."""
    near, far = _inchworm_hand(progress, 0), _inchworm_hand(progress, 1)
    middle = (near[0] + far[0]) / 2
    reach = (middle - _INCHWORM_FOLD_HANDS) / (_INCHWORM_PLANK_HANDS - _INCHWORM_FOLD_HANDS)
    body = _inchworm_body(reach, (middle, 0.02))
    return replace(body, hand_far=_add(far, (-0.02, 0.0)), hand_near=near)


_INCHWORM_FOLD_AT = 0.15
_INCHWORM_OUT_AT = 0.45
_INCHWORM_BACK_AT = 0.55
_INCHWORM_UP_AT = 0.85


def inchworm(phase: float) -> Pose:
    """Fold forward, walk the hands out to a high plank, walk them back to the feet and roll up to standing."""
    phase = _phase(phase)
    if phase < _INCHWORM_FOLD_AT or phase >= _INCHWORM_UP_AT:
        t = phase / _INCHWORM_FOLD_AT if phase < _INCHWORM_FOLD_AT else (1 - phase) / (1 - _INCHWORM_UP_AT)
        return side_pose(_mix_rigs(replace(_standing_rig(), head_tilt=0.0), _inchworm_walk(0.0), _smoothstep(t)))
    if phase < _INCHWORM_OUT_AT:
        progress = (phase - _INCHWORM_FOLD_AT) / (_INCHWORM_OUT_AT - _INCHWORM_FOLD_AT)
    elif phase < _INCHWORM_BACK_AT:
        progress = 1.0
    else:
        progress = (_INCHWORM_UP_AT - phase) / (_INCHWORM_UP_AT - _INCHWORM_BACK_AT)
    return side_pose(_inchworm_walk(progress))


_TUCK_PELVIS = (0.0, _LYING_HEIGHT)
_TUCK_HAND = (-0.2, 0.008)
"""Hands flat on the floor behind the hips: the figure's contact with the floor while the feet are up."""
_TUCK_KEYS = (
    # (torso lean back, feet from the pelvis, foot angle): knees at the chest, legs long just off the floor
    (-38.0, (0.2, 0.19), -35.0),
    (-58.0, (0.47, 0.08), -5.0),
)


def seated_knee_tuck(phase: float) -> Pose:
    """Sitting, leaning back on the hands, feet off the floor: knees pulled to the chest, legs pushed long."""
    t = _smoothstep(_wave(_phase(phase)))
    (lean_in, feet_in, toe_in), (lean_out, feet_out, toe_out) = _TUCK_KEYS
    feet = _add(_TUCK_PELVIS, _lerp_point(feet_in, feet_out, t))
    return side_pose(
        SideRig(
            pelvis=_TUCK_PELVIS,
            torso=_lerp(lean_in, lean_out, t),
            hand_far=_add(_TUCK_HAND, (-0.02, 0.0)),
            hand_near=_TUCK_HAND,
            ankle_far=_add(feet, (FAR_OFFSET, 0.01)),
            ankle_near=feet,
            toe_far=_lerp(toe_in, toe_out, t),
            toe_near=_lerp(toe_in, toe_out, t),
            head_tilt=_lerp(20.0, 35.0, t),
        )
    )


POSES: Mapping[str, PoseFunction] = {
    "squat": squat,
    "jumping_jack": jumping_jack,
    "push_up": push_up,
    "lunge": lunge,
    "plank": plank,
    "burpee": burpee,
    "mountain_climber": mountain_climber,
    "high_knees": high_knees,
    "glute_bridge": glute_bridge,
    "crunch": crunch,
    "calf_raise": calf_raise,
    "knee_push_up": knee_push_up,
    "pike_push_up": pike_push_up,
    "jump_squat": jump_squat,
    "inchworm": inchworm,
    "seated_knee_tuck": seated_knee_tuck,
}


# --- drawing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Maps figure units to pixels of one clip: fixed for the whole clip so the figure never slides."""

    scale: float
    """Pixels per figure unit."""
    origin_x: float
    """Pixel column of figure x = 0."""
    ground_y: float
    """Pixel row of figure y = 0."""

    def to_pixels(self, point: Point) -> Point:
        return self.origin_x + point[0] * self.scale, self.ground_y - point[1] * self.scale


def fit_placement(poses: Iterable[Pose], width: int, height: int) -> Placement:
    """Stand the figure on the ground line, centred on everything it does over the clip."""
    xs = [x for pose in poses for x, _ in pose.values()]
    scale = FIGURE_HEIGHT_FRACTION * height
    centre = (min(xs) + max(xs)) / 2
    return Placement(scale=scale, origin_x=width / 2 - centre * scale, ground_y=GROUND_FRACTION * height)


_FAR_SEGMENTS = (("shoulder_l", "elbow_l"), ("elbow_l", "hand_l"), ("hip_l", "knee_l"), ("knee_l", "ankle_l"),
                 ("ankle_l", "toe_l"))  # fmt: skip
_NEAR_SEGMENTS = (("hip_r", "knee_r"), ("knee_r", "ankle_r"), ("ankle_r", "toe_r"), ("shoulder_r", "elbow_r"),
                  ("elbow_r", "hand_r"))  # fmt: skip
_BODY_SEGMENTS = (("neck", "shoulder_l"), ("neck", "shoulder_r"), ("pelvis", "hip_l"), ("pelvis", "hip_r"))


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(round(min(255.0, c * factor)) for c in colour)  # type: ignore[return-value]


def _tint(colour: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(round(c + (255 - c) * amount) for c in colour)  # type: ignore[return-value]


class _Layer:
    """Discs and round-capped limbs of one colour, rasterised supersampled over their own tight box."""

    def __init__(self) -> None:
        self._discs: list[tuple[Point, float]] = []
        self._limbs: list[tuple[Point, Point, float]] = []

    def disc(self, centre: Point, radius: float) -> None:
        self._discs.append((centre, radius))

    def limb(self, a: Point, b: Point, width: float) -> None:
        self._limbs.append((a, b, width))
        self._discs += [(a, width / 2), (b, width / 2)]

    def draw(self, img: Image.Image, colour: tuple[int, int, int]) -> None:
        box = (
            max(0, math.floor(min(x - r for (x, _), r in self._discs)) - 1),
            max(0, math.floor(min(y - r for (_, y), r in self._discs)) - 1),
            min(img.width, math.ceil(max(x + r for (x, _), r in self._discs)) + 1),
            min(img.height, math.ceil(max(y + r for (_, y), r in self._discs)) + 1),
        )
        if box[2] <= box[0] or box[3] <= box[1]:
            return
        mask = Image.new("L", ((box[2] - box[0]) * SUPERSAMPLE, (box[3] - box[1]) * SUPERSAMPLE), 0)
        draw = ImageDraw.Draw(mask)

        def xy(point: Point) -> Point:
            return (point[0] - box[0]) * SUPERSAMPLE, (point[1] - box[1]) * SUPERSAMPLE

        for a, b, width in self._limbs:
            draw.line((xy(a), xy(b)), fill=255, width=max(1, round(width * SUPERSAMPLE)))
        for centre, radius in self._discs:
            x, y = xy(centre)
            r = radius * SUPERSAMPLE
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
        _composite(img, colour, mask.reduce(SUPERSAMPLE), (box[0], box[1]))


def _composite(img: Image.Image, colour: tuple[int, int, int], mask: Image.Image, origin: tuple[int, int]) -> None:
    """Blend a solid colour through `mask` into `img` (RGB: paste; RGBA: proper alpha compositing)."""
    if img.mode == "RGBA":
        layer = Image.new("RGBA", mask.size, (*colour, 0))
        layer.putalpha(mask)
        img.alpha_composite(layer, origin)
    else:
        img.paste(colour, (*origin, origin[0] + mask.width, origin[1] + mask.height), mask)


def _draw_shadow(img: Image.Image, pose: Pose, placement: Placement) -> None:
    xs = [x for x, _ in pose.values()]
    lowest = min(y for _, y in pose.values())
    strength = max(0.0, 1.0 - 4.0 * max(0.0, lowest - ANKLE_HEIGHT))
    if strength <= 0:
        return
    scale = placement.scale
    blur = SHADOW_BLUR * scale
    half_width = (max(xs) - min(xs)) / 2 * scale * 0.9 + LIMB_WIDTH * scale
    centre_x = placement.origin_x + (max(xs) + min(xs)) / 2 * scale
    half_height = SHADOW_HEIGHT * scale / 2
    pad = 3 * blur
    box = (
        max(0, int(centre_x - half_width - pad)),
        max(0, int(placement.ground_y - half_height - pad)),
        min(img.width, math.ceil(centre_x + half_width + pad)),
        min(img.height, math.ceil(placement.ground_y + half_height + pad)),
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        return
    mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
    ellipse = (centre_x - half_width - box[0], placement.ground_y - half_height - box[1],
               centre_x + half_width - box[0], placement.ground_y + half_height - box[1])  # fmt: skip
    ImageDraw.Draw(mask).ellipse(ellipse, fill=round(SHADOW_ALPHA * strength))
    _composite(img, (0, 0, 0), mask.filter(ImageFilter.GaussianBlur(blur)), box[:2])


def draw_figure(
    img: Image.Image, pose: Pose, placement: Placement, colour: tuple[int, int, int], *, shadow: bool = True
) -> None:
    """Draw the figure in `pose` into `img` (RGB or RGBA) in place, anti-aliased."""
    if shadow:
        _draw_shadow(img, pose, placement)
    points = {name: placement.to_pixels(pose[name]) for name in JOINTS}
    scale = placement.scale
    far, body, near = _Layer(), _Layer(), _Layer()
    for a, b in _FAR_SEGMENTS:
        far.limb(points[a], points[b], LIMB_WIDTH * scale)
    body.limb(points["neck"], points["pelvis"], TORSO_WIDTH * scale)
    body.limb(points["neck"], points["head"], NECK_WIDTH * scale)
    for a, b in _BODY_SEGMENTS:
        body.limb(points[a], points[b], LIMB_WIDTH * scale)
    body.disc(points["head"], HEAD_RADIUS * scale)
    for a, b in _NEAR_SEGMENTS:
        near.limb(points[a], points[b], LIMB_WIDTH * scale)
    far.draw(img, _shade(colour, FAR_SHADE))
    body.draw(img, colour)
    near.draw(img, _tint(colour, NEAR_TINT))
