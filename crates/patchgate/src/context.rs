//! What every command that touches state needs: the configuration and an
//! open store. The binary is the only place that chooses a backend.

use anyhow::{bail, Context as _};
use patchgate_core::config::{Config, Database};
use patchgate_store::{SqliteStore, Store};
use std::path::Path;

/// The loaded configuration and the store it names.
pub struct Context {
    pub config: Config,
    pub store: Box<dyn Store>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("config", &self.config)
            .finish()
    }
}

impl Context {
    /// Load `config` and open (creating if needed) its state directory and store.
    pub fn open(config: &Path) -> anyhow::Result<Context> {
        let config = Config::load(config)?;
        let store = open_store(&config)?;
        Ok(Context { config, store })
    }
}

/// Open the store a configuration names, creating the state directory.
pub fn open_store(config: &Config) -> anyhow::Result<Box<dyn Store>> {
    match &config.database {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create state directory {}", dir.display()))?;
            }
            let store = SqliteStore::open(path)
                .with_context(|| format!("cannot open database {}", path.display()))?;
            Ok(Box::new(store))
        }
        Database::Postgres(url) => bail!(
            "{}: database = \"{url}\": this build stores state in SQLite only; \
             write database = \"sqlite\"",
            config.file.display()
        ),
    }
}
