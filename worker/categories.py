"""The GBV categories a detection can carry and a notice can be routed by."""

CATEGORIES = (
    "domestic_violence",
    "sexual_violence",
    "harassment",
    "online_gbv",        # non-consensual images, sextortion, hidden cameras, deepfake nudes
    "dating_violence",
    "stalking",
    "trafficking",       # for sexual exploitation, bride trafficking
    "other_gbv",         # forced or child marriage, femicide, GBV in general, GBV hotlines
)
