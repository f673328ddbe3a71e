//! The database crm-sync writes, queried directly by the tests.

/// The database crm-sync writes, queried directly.
pub(crate) enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A runtime for the test's own queries (the tests are synchronous, like a sender).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap())
}

impl Db {
    pub(crate) fn connect(url: &str) -> Self {
        runtime().block_on(async {
            if url.starts_with("postgres") {
                Self::Postgres(sqlx::PgPool::connect(url).await.unwrap())
            } else {
                Self::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
            }
        })
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Runs statements (`;`-separated is not supported: one at a time).
    pub(crate) fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        runtime().block_on(async {
            match self {
                Self::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
                Self::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            }
            .unwrap_or_else(|error| panic!("{error}"));
        });
    }

    /// The rows of `sql`, every column read as nullable text (cast numbers in the SQL).
    pub(crate) fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        use sqlx::Row as _;
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        runtime().block_on(async {
            // One expression for both pools: the row types differ, the reading does not.
            macro_rules! text_rows {
                ($pool:expr) => {
                    sqlx::query(query)
                        .fetch_all($pool)
                        .await
                        .unwrap()
                        .iter()
                        .map(|row| {
                            (0..row.columns().len()).map(|i| row.try_get::<Option<String>, _>(i).unwrap()).collect()
                        })
                        .collect()
                };
            }
            match self {
                Self::Sqlite(pool) => text_rows!(pool),
                Self::Postgres(pool) => text_rows!(pool),
            }
        })
    }

    /// The single text value of `sql`.
    pub(crate) fn value(&self, sql: &str) -> Option<String> {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].clone()
    }

    /// How many rows `select` returns.
    pub(crate) fn count(&self, select: &str) -> usize {
        self.value(&format!("SELECT CAST(count(*) AS TEXT) FROM ({select}) AS counted")).unwrap().parse().unwrap()
    }
}

/// `text` as an SQL string literal.
pub(crate) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
