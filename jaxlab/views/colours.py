"""One colour per device, the same in every jaxlab view (by the device's position among
``jax.devices()``)."""

from __future__ import annotations

# light fills that keep dark text readable (CIE lightness 70–88) and stay apart: any two of
# the first eight differ by a CIE76 ΔE of 30 or more, any two of all sixteen by 19 or more
PALETTE = (
    "#8ecae6", "#ffb703", "#90be6d", "#f4978e", "#c79df1", "#55e7cf", "#f9d894", "#f0c2dd",
    "#f994cf", "#ead9c8", "#aee0b6", "#94b6f9", "#f7a76e", "#47e7f5", "#d5a790", "#a5e9e3",
)  # fmt: skip


def swatch(colour: str) -> str:
    """A small square of `colour` for legends and tables (a colour jaxlab chose, never user
    text)."""
    return (
        '<span style="display:inline-block;width:10px;height:10px;border:1px solid #444;'
        f'margin-right:3px;vertical-align:-1px;background:{colour}"></span>'
    )


def device_colour(slot: int) -> str:
    """The fill of the device in colour slot `slot` (cycling through HSL past the palette)."""
    if 0 <= slot < len(PALETTE):
        return PALETTE[slot]
    hue = (slot * 137.508) % 360
    return f"hsl({hue:.0f}, 65%, 78%)"
