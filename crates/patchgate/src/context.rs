//! What every command that touches state needs: the configuration and an
//! open store. The binary is the only place that chooses a backend.

use anyhow::{bail, Context as _};
use patchgate_core::config::{Config, Database};
use patchgate_store::Store;
use patchgate_store_sqlite::SqliteStore;
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

/// The wall clock, for the library's stages.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl patchgate_core::testing::Clock for SystemClock {
    fn now(&self) -> i64 {
        crate::commands::now()
    }
}

/// The sandbox suites run in. Refuses to run unconfined: without bubblewrap
/// the error says how to install it.
pub fn sandbox() -> anyhow::Result<patchgate_sandbox::Sandbox> {
    sandbox_with(patchgate_sandbox::Config::default())
}

/// The sandbox, with every run stopped when `cancel` is set.
pub fn cancellable_sandbox(
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<patchgate_sandbox::Sandbox> {
    sandbox_with(patchgate_sandbox::Config {
        cancel: Some(cancel),
        ..patchgate_sandbox::Config::default()
    })
}

fn sandbox_with(config: patchgate_sandbox::Config) -> anyhow::Result<patchgate_sandbox::Sandbox> {
    let sandbox = patchgate_sandbox::Sandbox::new(config).context(
        "cannot set up the sandbox suites run in (run scripts/setup to install bubblewrap)",
    )?;
    let enforced = sandbox.capabilities().enforced();
    if !enforced.all() {
        tracing::warn!(
            "sandbox limits not all enforced: {}",
            sandbox.capabilities().summary()
        );
    }
    Ok(sandbox)
}
