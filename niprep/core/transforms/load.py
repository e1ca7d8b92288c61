"""Read a NIfTI volume as stored: native dtype, nibabel's memory order, header facts.

A file that cannot give a 3-D volume of finite integer or real voxels is refused with a
``ValueError`` whose message is one line saying why (empty, truncated, not gzip, not
NIfTI, wrong shape, too many voxels, ...). Everything the header can tell is checked
before any voxel is read.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from collections.abc import Hashable, Mapping
from typing import Any

import nibabel as nib
import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform

from niprep.core.nifti_read import read_voxels


def volume_shape(header: nib.spatialimages.SpatialHeader) -> tuple[int, int, int]:
    """The 3-D shape a NIfTI header declares (a 4th axis of length 1 is dropped).

    Raises:
        ValueError: the header declares another number of dimensions.
    """
    shape = tuple(int(size) for size in header.get_data_shape())
    if not (len(shape) == 3 or (len(shape) == 4 and shape[3] == 1)):
        raise ValueError(
            f"not a 3-D volume: the header gives shape {shape} (a 4-D volume is taken "
            "only when its 4th axis has length 1)"
        )
    return shape[:3]


class LoadNifti(Transform):
    """Load a 3-D NIfTI volume without converting or reordering it.

    The voxels come from ``img.dataobj`` (scaling applied, as nibabel gives them), in
    the stored dtype and nibabel's Fortran order: no float64 copy, no C-order copy.
    A 4-D volume whose 4th axis has length 1 is taken as 3-D.

    Shape, voxel count and voxel type are checked on the header, before any voxel is
    read or memory set aside for them; integer and real types are accepted (complex and
    RGB are refused), and real voxels must be finite.

    Args:
        max_voxels: refuse, from the header alone, a volume declaring more voxels.
        allow_non_finite: keep real voxels that are NaN or infinite instead of refusing the
            volume (the dataset check counts them in an image).
    """

    backend = ["numpy"]

    def __init__(self, max_voxels: int = 2**31, allow_non_finite: bool = False) -> None:
        self.max_voxels = max_voxels
        self.allow_non_finite = allow_non_finite

    def __call__(self, path: str | os.PathLike) -> tuple[np.ndarray, dict[str, Any]]:
        """Return ``(array, meta)``; ``meta`` holds ``filename``, ``affine``, ``zooms``,
        ``voxel_volume`` (mm^3) and ``shape``.

        Raises:
            ValueError: the file is not a readable 3-D NIfTI volume of at most
                ``max_voxels`` integer or real voxels, finite unless ``allow_non_finite``;
                the message says why.
        """
        path = os.fspath(path)
        try:
            image = nib.load(path)
        except Exception as error:  # nibabel raises many types, and often hides the reason
            raise ValueError(_why_unreadable(path, error)) from None
        self._check_header(image, path)
        try:
            array = read_voxels(image)
        except (EOFError, OSError, ValueError, OverflowError, zlib.error) as error:
            raise ValueError(_read_failure(error, path)) from None
        if array.ndim == 4:
            array = array[..., 0]
        # min and max see any NaN or inf without allocating a mask the size of the volume
        if not self.allow_non_finite and array.dtype.kind == "f" and array.size and not (
            np.isfinite(array.min()) and np.isfinite(array.max())
        ):
            non_finite = array.size - np.count_nonzero(np.isfinite(array))
            if non_finite:
                raise ValueError(
                    f"non-finite voxels: {non_finite} of {array.size} are NaN or infinite"
                )
        zooms = tuple(float(zoom) for zoom in image.header.get_zooms()[:3])
        meta = {
            "filename": os.fspath(path),
            "affine": image.affine,
            "zooms": zooms,
            "voxel_volume": float(np.prod(zooms)),
            "shape": array.shape,
        }
        return array, meta

    def _check_header(self, image: nib.spatialimages.SpatialImage, path: str) -> None:
        """Refuse, from the header alone, a shape, size or voxel type that cannot be a mask."""
        header = image.header
        shape = volume_shape(header)
        if min(shape) < 1:
            raise ValueError(f"invalid NIfTI header: shape {shape} has an axis of length < 1")
        declared = math.prod(shape)
        if declared > self.max_voxels:
            raise ValueError(
                f"too large: the header declares {declared} voxels {shape}, more than "
                f"max_voxels={self.max_voxels}"
            )
        dtype = header.get_data_dtype()
        if dtype.kind not in "iuf":
            kind = "".join(dtype.names) if dtype.names else dtype.name
            raise ValueError(
                f"unsupported voxel type {kind}: only integer and real voxels are read"
            )
        if not path.endswith(".gz"):
            offset = int(image.dataobj.offset)
            needed = offset + declared * dtype.itemsize
            size = os.path.getsize(path)
            if size < needed:
                raise ValueError(
                    f"truncated file: {size} bytes, but its header needs {needed} (voxels "
                    f"from byte {offset}, {declared} of them, {dtype.itemsize} B each)"
                )


_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 1024  # what nibabel reads to recognise a file (a header is 348 or 540 bytes)
#: ``(sizeof_hdr, offset of the magic, magics)`` of the NIfTI-1 and NIfTI-2 headers
_NIFTI_SIGNATURES = ((348, 344, (b"n+1\0", b"ni1\0")), (540, 4, (b"n+2\0", b"ni2\0")))


def _starts_with_nifti_header(start: bytes) -> bool:
    """Whether ``start`` opens with a NIfTI-1 or NIfTI-2 header, in either byte order."""
    sizes = {int.from_bytes(start[:4], "little"), int.from_bytes(start[:4], "big")}
    return any(size in sizes and len(start) >= size and start[at : at + 4] in magics
               for size, at, magics in _NIFTI_SIGNATURES)


def _one_line(error: BaseException, path: str) -> str:
    """A library's error message on one line, the file called "the file"."""
    return " ".join(str(error).replace(path, "the file").split()) or type(error).__name__


def _read_failure(error: Exception, path: str) -> str:
    """What an error met while reading the bytes of ``path`` says about the file."""
    if isinstance(error, EOFError):
        return "truncated file: the gzip stream ends early (an incomplete download?)"
    if isinstance(error, (gzip.BadGzipFile, zlib.error)):
        return f"corrupt file: the gzip data is damaged ({_one_line(error, path)})"
    return f"corrupt file: cannot read the voxels ({_one_line(error, path)})"


def _why_unreadable(path: str, error: Exception) -> str:
    """Why nibabel could not open ``path``, read from the file's first bytes: nibabel
    words most failures as "cannot work out file type"."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as stream:
            start = stream.read(_SNIFF_BYTES)
    except OSError as cause:
        if os.path.islink(path):
            return (
                f"broken symbolic link: its target {os.readlink(path)!r} cannot be opened "
                f"({cause.strerror})"
            )
        return f"cannot read the file: {cause.strerror}"
    if size == 0:
        return "not a NIfTI file: the file is empty"
    compressed = start.startswith(_GZIP_MAGIC)
    if path.endswith(".gz") and not compressed:
        if _starts_with_nifti_header(start):
            return "not gzip data: this is an uncompressed NIfTI file; rename it to .nii"
        return "not a NIfTI file: not gzip data, although the name ends in .gz"
    if compressed and not path.endswith(".gz"):
        return "gzip data in a file named .nii; rename it to .nii.gz"
    if compressed:
        try:
            with gzip.open(path, "rb") as stream:
                start = stream.read(_SNIFF_BYTES)
        except (EOFError, OSError, zlib.error) as cause:
            return _read_failure(cause, path)
    if not _starts_with_nifti_header(start):
        return "not a NIfTI file: the data does not start with a NIfTI-1 or NIfTI-2 header"
    return f"invalid NIfTI header: {_one_line(error, path)}"


class LoadNiftid(MapTransform):
    """Dictionary wrapper of :class:`LoadNifti`: a path under each key becomes the array,
    and its header facts go to ``<key>_<meta_key_postfix>``.

    Args:
        keys: keys holding paths to load.
        max_voxels: see :class:`LoadNifti`.
        meta_key_postfix: postfix of the key receiving the header facts.
        allow_missing_keys: do not raise for absent keys.
    """

    backend = LoadNifti.backend

    def __init__(
        self,
        keys: KeysCollection,
        max_voxels: int = 2**31,
        meta_key_postfix: str = "meta",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.loader = LoadNifti(max_voxels)
        self.meta_key_postfix = meta_key_postfix

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key], d[f"{key}_{self.meta_key_postfix}"] = self.loader(d[key])
        return d
