"""Which series of a study the detector fits, for a folder or .zip that holds several.

A clinician often exports a whole study (localizer, T1, T2, FLAIR, diffusion, post-contrast T1).
`choose_t1_series` (a `load_scan` `choose_series`) reads each series' own header with the same
rules as the applicability check (`assistant.domain.metadata`): a modality other than MR, a
localizer, a sequence that is not T1-weighted (its timings, coded contrast or image type) and a
recorded contrast agent rule a series out. Of the rest it takes an original (not derived) 3D
acquisition first, then the series with the most files; the note says which series was loaded
and why the others were not. When none is left it refuses the input, listing each series with
its reason. `series_by_number` loads the series the user names (`--series N`) instead, and
`series_at` the one chosen from the app's list of the study's series (`series_choices`).
"""

from __future__ import annotations

from assistant.domain.metadata import MODALITY_NAMES, UNKNOWN_MODALITIES, sequence_weighting
from assistant.scan import CHOSEN_BY_HAND, ScanError, SeriesChooser, SeriesInfo

_LOCALIZER = ("LOCALIZER", "SCOUT", "SURVEY")


def why_not(info: SeriesInfo) -> str | None:
    """Why the detector does not fit series `info`, from its header; None when nothing says so
    (which is not proof that it is T1-weighted: a header may record no timings)."""
    meta = info.metadata or {}
    modality = info.modality.upper().strip()
    if modality not in UNKNOWN_MODALITIES and modality != "MR":
        return f"modality {MODALITY_NAMES.get(modality, modality)}"
    image_type = str(meta.get("ImageType", "") or "").upper()
    if any(word in image_type for word in _LOCALIZER):
        return "a localizer"
    name, evidence = sequence_weighting(meta)
    if name is not None:
        return f"{name}: {evidence}"
    if meta.get("ContrastAgent") == "given":
        return "post-contrast: the header records a contrast agent"
    return None


def choose_t1_series(infos: list[SeriesInfo]) -> tuple[int, str]:
    """The `position` of the series to load and a note saying why (module docstring);
    ScanError listing every series' reason when none fits."""
    reasons = [(info, why_not(info)) for info in infos]
    fit = [info for info, why in reasons if why is None]
    if not fit:
        listing = "; ".join(f"{info.describe()}: {why}" for info, why in reasons)
        raise ScanError(
            f"none of its {len(infos)} series is a pre-contrast T1-weighted MRI, the only kind "
            f"the detector learned ({listing}); load the study's T1-weighted series, or choose "
            "one of these (in the app's series menu, `--series N` in the CLI or the `/analyze` "
            "API's series) to have it "
            "checked and, if you choose, analysed anyway"
        )

    def rank(info: SeriesInfo) -> tuple:
        meta = info.metadata or {}
        three_d = str(meta.get("MRAcquisitionType", "") or "").upper().strip() == "3D"
        derived = "DERIVED" in str(meta.get("ImageType", "") or "").upper()
        return (three_d, not derived, info.n_files, -info.position)

    best = max(fit, key=rank)
    why = "its header marks no other contrast, modality or contrast agent"
    if len(fit) > 1:
        n_3d = sum(rank(info)[0] for info in fit)
        which = "the one with the most files"
        if rank(best)[0]:
            which = (
                "the only 3D acquisition" if n_3d == 1 else "the 3D acquisition with the most files"
            )
        why += f" and, of {len(fit)} such series, it is {which}"
    ruled_out = [f"{info.describe()}: {reason}" for info, reason in reasons if reason]
    if ruled_out:
        why += "; not used: " + "; ".join(ruled_out)
    return best.position, why


def series_choices(infos: list[SeriesInfo]) -> list[tuple[str, int]]:
    """The study's series as (label, position) menu entries: each says what it is and, when
    its header rules it out, why ("'AX T2 TSE' #2 MR (5 files): not used, T2-weighted: ...")."""
    choices = []
    for info in infos:
        why = why_not(info)
        label = info.describe() + (f": not used, {why}" if why else "")
        choices.append((label, info.position))
    return choices


def series_at(position: int) -> SeriesChooser:
    """A chooser that loads the series at `position` of the listed series (`series_choices`:
    the user picked it from the app's menu); it is then checked like any upload."""

    def choose(infos: list[SeriesInfo]) -> tuple[int, str]:
        for info in infos:
            if info.position == int(position):
                return info.position, f"{CHOSEN_BY_HAND} from the study's series"
        raise ScanError(
            f"the upload holds {len(infos)} series, not a series number {position} in its list; "
            "upload it again and choose one of its series"
        )

    return choose


def series_by_number(number: int) -> SeriesChooser:
    """A chooser that loads the series whose Series Number is `number` (the user's choice)."""

    def choose(infos: list[SeriesInfo]) -> tuple[int, str]:
        for info in infos:
            if info.number == int(number):
                return info.position, f"{CHOSEN_BY_HAND}: its series number ({number})"
        numbers = ", ".join(str(i.number) for i in infos if i.number is not None) or "none"
        raise ScanError(f"no series has the number {number}; the series numbers here are {numbers}")

    return choose
