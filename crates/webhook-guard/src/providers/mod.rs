//! One module per sender.
