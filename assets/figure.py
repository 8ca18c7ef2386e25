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
        SideRig(
            pelvis=pelvis,
            torso=torso,
            hand_far=_add(_PUSH_UP_HAND, (-0.02, 0.0)),
            hand_near=_PUSH_UP_HAND,
            ankle_far=_add(_PUSH_UP_ANKLE, (FAR_OFFSET, 0.0)),
            ankle_near=_PUSH_UP_ANKLE,
            toe_far=POINTED_TOE,
            toe_near=POINTED_TOE,
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
        SideRig(
            pelvis=pelvis,
            torso=torso,
            hand_far=_add(hand, (-0.02, 0.0)),
            hand_near=hand,
            ankle_far=_add(_PLANK_ANKLE, (FAR_OFFSET, 0.0)),
            ankle_near=_PLANK_ANKLE,
            toe_far=POINTED_TOE,
            toe_near=POINTED_TOE,
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
    return SideRig(
        pelvis=pelvis,
        torso=torso,
        hand_far=_add(_BURPEE_HANDS, (-0.02, 0.0)),
        hand_near=_BURPEE_HANDS,
        ankle_far=_add(_BURPEE_PLANK_ANKLE, (FAR_OFFSET, 0.0)),
        ankle_near=_BURPEE_PLANK_ANKLE,
        toe_far=POINTED_TOE,
        toe_near=POINTED_TOE,
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


POSES: Mapping[str, PoseFunction] = {
    "squat": squat,
    "jumping_jack": jumping_jack,
    "push_up": push_up,
    "lunge": lunge,
    "plank": plank,
    "burpee": burpee,
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
