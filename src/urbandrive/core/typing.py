"""Array type aliases used in signatures; shapes and units go in the docstrings."""

from typing import Any

import numpy as np
import numpy.typing as npt

NDArrayFloat = npt.NDArray[np.floating[Any]]
NDArrayF64 = npt.NDArray[np.float64]
NDArrayInt = npt.NDArray[np.integer[Any]]
NDArrayBool = npt.NDArray[np.bool_]
NDArrayStr = npt.NDArray[np.str_]
