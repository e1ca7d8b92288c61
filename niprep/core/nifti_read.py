"""Reading a NIfTI volume: its header facts, its voxels, and one diagnosis of a broken file.

Every entry point (the runner, the training dataset, the preview) reads through
:func:`read_header` and :func:`read_volume`, so the same broken file gets the same one-line
reason everywhere (see docs/reference.md, Stats and failures files). Everything the
header can tell is checked before any voxel is read.

nibabel inflates ``.nii.gz`` data with Python's ``gzip`` (zlib); ISA-L's inflate gives
the same bytes about three times faster. It is used only when nibabel would hand the
raw stored array back untouched (no scaling, Fortran order); every other image is read
through ``img.dataobj`` as usual.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from typing import Any

import nibabel as nib
import numpy as np
from isal import igzip
from nibabel.arrayproxy import ArrayProxy
from nibabel.spatialimages import SpatialImage

_CHUNK = 1 << 22  # bytes inflated per read: small beside any volume worth timing
#: errors met while reading a file's bytes; each is turned into one sentence
_READ_ERRORS = (EOFError, OSError, ValueError, OverflowError, zlib.error)


def _is_raw_gzip(image: SpatialImage) -> bool:
    proxy = image.dataobj
    filename = image.get_filename() or ""
    return (
        isinstance(proxy, ArrayProxy)
        and filename.endswith(".gz")
        and proxy.order == "F"
        and proxy.slope == 1.0
        and proxy.inter == 0.0
        and proxy.dtype.kind in "biuf"
    )


def read_voxels(image: SpatialImage) -> np.ndarray:
    """The voxels of ``image``, equal to ``np.asanyarray(image.dataobj)``, in native
    byte order.

    Args:
        image: a NIfTI image as ``nibabel.load`` returns it.

    Raises:
        ValueError: the file ends before the data its header declares.
    """
    if _is_raw_gzip(image):
        proxy = image.dataobj
        voxels = np.empty(proxy.shape, dtype=proxy.dtype, order="F")
        data = voxels.reshape(-1, order="F").view(np.uint8)
        got = 0
        with igzip.open(image.get_filename(), "rb") as stream:
            stream.seek(proxy.offset)
            # in chunks: one readinto of everything would inflate a second full copy first
            while got < data.size:
                step = stream.readinto(data[got : got + _CHUNK])
                if not step:
                    break
                got += step
        if got != voxels.nbytes:
            raise ValueError(
                f"the file ends after {got} of the {voxels.nbytes} data bytes its header declares"
            )
    else:
        voxels = np.asanyarray(image.dataobj)
    if not voxels.dtype.isnative:
        voxels = voxels.byteswap(inplace=True).view(voxels.dtype.newbyteorder("="))
    return voxels


@dataclass(frozen=True)
class NiftiHeader:
    """What a NIfTI file's header says, checked: a 3-D volume niprep can read.

    Args:
        path: the file.
        image: the image as ``nibabel.load`` gives it (its voxels not yet read).
        shape: the 3-D shape (a 4th axis of length 1 is dropped).
        affine: the voxel-to-world affine.
        zooms: the voxel size in mm along each of the three axes.
        dtype: the stored voxel type.
    """

    path: str
    image: SpatialImage
    shape: tuple[int, int, int]
    affine: np.ndarray
    zooms: tuple[float, float, float]
    dtype: np.dtype

    @property
    def voxel_volume(self) -> float:
        """The volume of one voxel, in mm^3."""
        return float(np.prod(self.zooms))


def read_header(path: str | os.PathLike, max_voxels: int = 2**31) -> NiftiHeader:
    """Read and check the header of a NIfTI file, without reading a voxel.

    Args:
        path: the ``.nii`` or ``.nii.gz`` file.
        max_voxels: refuse a volume declaring more voxels.

    Raises:
        ValueError: the file is not a 3-D NIfTI volume of at most ``max_voxels`` integer
            or real voxels; the message is one line saying why.
    """
    path = os.fspath(path)
    try:
        image = nib.load(path)
    except Exception as error:  # nibabel raises many types, and often hides the reason
        raise ValueError(_why_unreadable(path, error)) from None
    if not isinstance(image, SpatialImage):
        raise ValueError(_not_a_volume(image))
    try:
        header = image.header
        shape = tuple(int(size) for size in header.get_data_shape())
        dtype = header.get_data_dtype()
        zooms = tuple(float(zoom) for zoom in header.get_zooms()[:3])
        affine = image.affine
    except Exception as error:  # a header nibabel opened but cannot interpret
        raise ValueError(f"invalid NIfTI header: {_one_line(error, path)}") from None
    volume = _checked_shape(shape, max_voxels)
    _check_dtype(dtype)
    if not path.endswith(".gz"):
        _check_length(path, int(image.dataobj.offset), math.prod(volume), dtype)
    return NiftiHeader(path, image, volume, affine, zooms, dtype)


def read_volume(
    path: str | os.PathLike, max_voxels: int = 2**31, allow_non_finite: bool = False
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a 3-D NIfTI volume as stored: native dtype, nibabel's memory order.

    The voxels come from ``img.dataobj`` (scaling applied, as nibabel gives them), in
    the stored dtype and nibabel's Fortran order: no float64 copy, no C-order copy.

    Args:
        path: the ``.nii`` or ``.nii.gz`` file.
        max_voxels: refuse, from the header alone, a volume declaring more voxels.
        allow_non_finite: keep real voxels that are NaN or infinite instead of refusing the
            volume (the dataset check counts them in an image).

    Returns:
        ``(array, meta)``; ``meta`` holds ``filename``, ``affine``, ``zooms``,
        ``voxel_volume`` (mm^3) and ``shape``.

    Raises:
        ValueError: the file is not a readable 3-D NIfTI volume of at most
            ``max_voxels`` integer or real voxels, finite unless ``allow_non_finite``; the
            message says why.
    """
    header = read_header(path, max_voxels)
    try:
        array = read_voxels(header.image)
    except _READ_ERRORS as error:
        raise ValueError(_read_failure(error, header)) from None
    if array.ndim == 4:
        array = array[..., 0]
    if not allow_non_finite:
        _check_finite(array)
    meta = {
        "filename": header.path,
        "affine": header.affine,
        "zooms": header.zooms,
        "voxel_volume": header.voxel_volume,
        "shape": array.shape,
    }
    return array, meta


# ------------------------------------------------------------------ header checks


def _checked_shape(shape: tuple[int, ...], max_voxels: int) -> tuple[int, int, int]:
    """The 3-D shape of a header's ``shape``, refused when it cannot be a mask."""
    if not (len(shape) == 3 or (len(shape) == 4 and shape[3] == 1)):
        raise ValueError(
            f"not a 3-D volume: the header gives shape {shape} (a 4-D volume is taken "
            "only when its 4th axis has length 1)"
        )
    volume = shape[:3]
    if min(volume) < 1:
        raise ValueError(f"invalid NIfTI header: shape {volume} has an axis of length < 1")
    declared = math.prod(volume)
    if declared > max_voxels:
        raise ValueError(
            f"too large: the header declares {declared} voxels {volume}, more than "
            f"max_voxels={max_voxels}"
        )
    return volume


def _check_dtype(dtype: np.dtype) -> None:
    if dtype.kind not in "iuf":
        kind = "".join(dtype.names) if dtype.names else dtype.name
        raise ValueError(f"unsupported voxel type {kind}: only integer and real voxels are read")


def _check_length(path: str, offset: int, voxels: int, dtype: np.dtype) -> None:
    """Refuse an uncompressed file shorter than the data its header declares."""
    needed = offset + voxels * dtype.itemsize
    size = os.path.getsize(path)
    if size < needed:
        raise ValueError(
            f"truncated file: {size} bytes, but its header needs {needed} (voxels "
            f"from byte {offset}, {voxels} of them, {dtype.itemsize} B each)"
        )


def non_finite_counts(array: np.ndarray) -> tuple[int, int]:
    """``(NaN voxels, infinite voxels)`` of an array; min and max see any first, without a
    mask the size of the volume, so a finite volume costs two reductions.

    Args:
        array: any array.
    """
    if array.dtype.kind != "f" or not array.size or (
        np.isfinite(array.min()) and np.isfinite(array.max())
    ):
        return 0, 0
    return int(np.count_nonzero(np.isnan(array))), int(np.count_nonzero(np.isinf(array)))


def _check_finite(array: np.ndarray) -> None:
    non_finite = sum(non_finite_counts(array))
    if non_finite:
        raise ValueError(f"non-finite voxels: {non_finite} of {array.size} are NaN or infinite")


def _not_a_volume(image: Any) -> str:
    """Why an image nibabel opened is not a voxel volume (CIFTI-2, ...)."""
    if isinstance(image, nib.Cifti2Image):
        return (
            "not a volume: a CIFTI-2 file (grayordinate data in a NIfTI-2 container) "
            "has no 3-D voxel grid; give the NIfTI volume it was made from"
        )
    return "not a volume: the file holds no 3-D voxel grid"


# ------------------------------------------------------------------ diagnosis of a broken file

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
    return " ".join(str(error).replace(path, "the file").split()) or "no reason given"


def _gzip_failure(error: BaseException, path: str) -> str:
    """What an error met while inflating ``path`` says about the file."""
    if isinstance(error, EOFError):
        return "truncated file: the gzip stream ends early (an incomplete download?)"
    return f"corrupt file: the gzip data is damaged ({_one_line(error, path)})"


def _inflated_size(path: str) -> int:
    """How many bytes the gzip file ``path`` inflates to (it is read to its end)."""
    size = 0
    with igzip.open(path, "rb") as stream:
        while step := len(stream.read(_CHUNK)):
            size += step
    return size


def _read_failure(error: Exception, header: NiftiHeader) -> str:
    """What an error met while reading the voxels of a file says about it."""
    path = header.path
    if isinstance(error, (EOFError, gzip.BadGzipFile, zlib.error)):
        return _gzip_failure(error, path)
    if path.endswith(".gz"):
        try:
            size = _inflated_size(path)
        except _READ_ERRORS as cause:
            return _gzip_failure(cause, path)
        offset, voxels = int(header.image.dataobj.offset), math.prod(header.shape)
        needed = offset + voxels * header.dtype.itemsize
        if size < needed:
            return (
                f"truncated file: its data inflates to {size} bytes, but its header needs "
                f"{needed} (voxels from byte {offset}, {voxels} of them, "
                f"{header.dtype.itemsize} B each)"
            )
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
            return _gzip_failure(cause, path)
    if not _starts_with_nifti_header(start):
        return "not a NIfTI file: the data does not start with a NIfTI-1 or NIfTI-2 header"
    return f"invalid NIfTI header: {_one_line(error, path)}"
