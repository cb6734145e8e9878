//! The git command: mirror, worktree, am -3, patch-id, public-inbox archives.
