"""DICOM loading with pydicom, de-identified by an allow-list of technical tags.

tags    ALLOWED_TAGS (the only tags copied into a Scan) and readers of element values
decode  one dataset -> `Decoded` frames after the modality LUT, with window and geometry
volume  `Decoded` frames -> `Scan` (slice sorting, RAS+ reorientation, MONOCHROME1)
file    load_dicom_bytes: one single- or multi-frame file
series  load_dicom_items: the files of a folder or .zip archive as one series
"""
