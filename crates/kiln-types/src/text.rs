//! IREE tensor text syntax (filled in next).
