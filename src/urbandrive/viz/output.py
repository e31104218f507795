"""Writing frames to files: PNG and GIF via Pillow, MP4 via the imageio-ffmpeg binary.

Every writer writes to a fresh temporary file beside the target and renames it into place
when done, so a failed render leaves no half-written file and touches no other file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from urbandrive.core.errors import UrbandriveError


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a new temporary path beside `path` (same suffix); rename it to `path` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise UrbandriveError(f"{path}: is a folder, not a picture file")
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix
    )
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _current_umask() -> int:
    """The process's umask (mkstemp creates files 0600; outputs get the usual permissions)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_png(frame: np.ndarray, path: Path) -> None:
    """frame: uint8[H, W, 3]."""
    with atomic_output(path) as temporary:
        Image.fromarray(frame).save(temporary, format="PNG", compress_level=3)


def to_palette_image(frame: np.ndarray) -> Image.Image:
    """uint8[H, W, 3] -> a 256-colour Pillow image (adaptive fast octree palette, no dithering)."""
    return Image.fromarray(frame).quantize(
        256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )


def write_gif(frames: Iterable[np.ndarray], path: Path, frame_duration_s: float) -> int:
    """Animate uint8[H, W, 3] frames, `frame_duration_s` each, looping; returns the frame count.

    Each frame gets its own adaptive palette (fast octree, no dithering).
    """
    images = [to_palette_image(frame) for frame in frames]
    if not images:
        raise UrbandriveError(f"{path}: no frames to write")
    duration_ms = max(10, round(frame_duration_s * 1000))
    with atomic_output(path) as temporary:
        images[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=duration_ms,
            loop=0,
            optimize=False,
            disposal=1,
        )
    return len(images)


def write_mp4(frames: Iterable[np.ndarray], path: Path, frames_per_s: float) -> int:
    """Encode uint8[H, W, 3] frames as H.264 (yuv420p, odd sizes padded white); returns the count."""
    import imageio_ffmpeg

    count = 0
    with atomic_output(path) as temporary:
        writer = None
        for frame in frames:
            frame = _pad_to_even(frame)
            if writer is None:
                writer = imageio_ffmpeg.write_frames(
                    str(temporary),
                    (frame.shape[1], frame.shape[0]),
                    fps=frames_per_s,
                    codec="libx264",
                    pix_fmt_out="yuv420p",
                    macro_block_size=1,
                    ffmpeg_log_level="error",
                    output_params=["-movflags", "+faststart"],
                )
                writer.send(None)
            writer.send(np.ascontiguousarray(frame))
            count += 1
        if writer is None:
            raise UrbandriveError(f"{path}: no frames to write")
        writer.close()
    return count


def _pad_to_even(frame: np.ndarray) -> np.ndarray:
    """uint8[H', W', 3] with H', W' even: yuv420p needs even sizes."""
    pad_rows, pad_columns = frame.shape[0] % 2, frame.shape[1] % 2
    if not (pad_rows or pad_columns):
        return frame
    return np.pad(frame, ((0, pad_rows), (0, pad_columns), (0, 0)), constant_values=255)
