//! Run one suite confined: namespaces, limits, kill the whole tree.
