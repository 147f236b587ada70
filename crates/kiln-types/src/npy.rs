//! NumPy `.npy` reading and writing (filled in next).
