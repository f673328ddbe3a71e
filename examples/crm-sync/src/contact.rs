//! Finding, creating, merging and updating the contact an event is about.
//!
//! **Matching.** A contact owns identities (`contact_identities`, unique on `(kind, value)`): the
//! senders' lead ids and its normalised emails, phones and LinkedIn URL. An event's identities
//! find its contact; when they find several, the contacts are one person seen through different
//! senders, and are merged into the oldest (its identities, activities and, field by field, the
//! newest values). Every identity of the event then belongs to the contact.
//!
//! **Ordering.** Each field keeps the `occurred_at` of the event that set it (`<field>_at`). An
//! event sets a field only when it is at least as new as that time; so an event older than the
//! contact's last applied one still fills a field the contact lacks (or that only older events
//! set), never overwrites a newer value, and still records its activity. Equal times: the later
//! arrival wins. Whatever order the events arrive in, each field ends at the value of the newest
//! event that carried it. `last_event_at` is the newest contact event applied.
//!
//! **Races.** On SQLite one writing transaction runs at a time (`BEGIN IMMEDIATE`). On Postgres
//! two transactions could both find no contact for one new email and create two: each
//! transaction first takes an advisory lock per identity (sorted, so never in a cycle), so the
//! second waits for the first and then finds its contact. Contact rows are read `FOR UPDATE`; a
//! row merged away meanwhile sends the lookup round again.

use crate::database::{Arg, Cell, Kind, Sql};
use crate::effect::{Effect, Fields, Identity};

/// How many times the lookup runs when a concurrent merge removed a contact it found.
const LOOKUP_ROUNDS: usize = 4;

/// A contact row as read for update.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    id: i64,
    values: [Option<String>; 6],
    times: [Option<String>; 6],
    last_event_at: String,
}

impl Row {
    /// The columns read, in [`Row::decode`]'s order.
    fn select(for_update: &str) -> String {
        let fields: Vec<String> = Fields::COLUMNS.iter().map(|field| format!("{field}, {field}_at")).collect();
        format!("SELECT id, {}, last_event_at FROM contacts WHERE id = $1{for_update}", fields.join(", "))
    }

    fn kinds() -> Vec<Kind> {
        let mut kinds = vec![Kind::Int];
        kinds.extend([Kind::Text; 13]);
        kinds
    }

    fn decode(cells: &[Cell]) -> Option<Self> {
        let text = |index: usize| cells.get(index).and_then(Cell::text).map(str::to_owned);
        Some(Self {
            id: cells.first()?.int()?,
            values: std::array::from_fn(|field| text(1 + 2 * field)),
            times: std::array::from_fn(|field| text(2 + 2 * field)),
            last_event_at: text(13)?,
        })
    }

    /// Sets each field `values` has where `at` is at least as new as the field's time.
    fn apply(&mut self, values: [Option<&str>; 6], at: &str) {
        for (field, value) in values.into_iter().enumerate() {
            if let Some(value) = value
                && self.times[field].as_deref().is_none_or(|set_at| at >= set_at)
            {
                self.values[field] = Some(value.to_owned());
                self.times[field] = Some(at.to_owned());
            }
        }
    }

    /// Takes `other`'s fields that are newer than this row's.
    fn absorb(&mut self, other: Self) {
        for (field, (value, at)) in other.values.into_iter().zip(other.times).enumerate() {
            if let (Some(value), Some(at)) = (value, at)
                && self.times[field].as_deref().is_none_or(|set_at| at.as_str() > set_at)
            {
                self.values[field] = Some(value);
                self.times[field] = Some(at);
            }
        }
        if other.last_event_at > self.last_event_at {
            self.last_event_at = other.last_event_at;
        }
    }
}

/// The advisory lock key of an identity: FNV-1a over `crm-sync`, the kind and the value. A
/// collision only makes two unrelated transactions wait for each other.
fn lock_key(identity: &Identity) -> i64 {
    let bytes = "crm-sync\0".bytes().chain(identity.kind.bytes()).chain([0]).chain(identity.value.bytes());
    let hash =
        bytes.fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Finds (or, for a contact event, creates) the contact `effect` is about, merges the contacts
/// it turns out to join, attaches the event's identities and applies its fields as of `at` (a
/// stored time, see [`time_text`](crate::effect::time_text)). `provider` names the kind of the
/// effect's lead id. `None` when the event is about no known contact and creates none.
///
/// # Errors
///
/// The database's error; or a protocol error when concurrent merges kept removing the contacts
/// found (the sender's retry runs it again).
pub(crate) async fn upsert<C: Sql>(
    connection: &mut C,
    provider: &str,
    effect: &Effect,
    at: &str,
    now: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let mut identities = effect.identities.clone();
    if let Some(lead_id) = &effect.lead_id {
        identities.insert(0, Identity { kind: provider.to_owned(), value: lead_id.clone() });
    }
    if identities.is_empty() {
        return Ok(None);
    }
    let mut keys: Vec<i64> = identities.iter().map(lock_key).collect();
    keys.sort_unstable();
    keys.dedup();
    connection.lock_keys(&keys).await?;

    for _ in 0..LOOKUP_ROUNDS {
        let found = find(connection, &identities).await?;
        let mut rows = Vec::with_capacity(found.len());
        for id in &found {
            let select = Row::select(C::FOR_UPDATE);
            let cells = connection.fetch(&select, &[Arg::Int(Some(*id))], &Row::kinds()).await?;
            if let Some(row) = cells.first().and_then(|cells| Row::decode(cells)) {
                rows.push(row);
            }
        }
        if rows.len() < found.len() {
            // A concurrent merge removed one of them after the lookup: look again.
            continue;
        }
        let mut rows = rows.into_iter();
        let mut contact = match rows.next() {
            Some(row) => row,
            None if !effect.create => return Ok(None),
            None => create(connection, at, now).await?,
        };
        let mut changed = effect.create;
        for other in rows {
            merge(connection, contact.id, other.id).await?;
            contact.absorb(other);
            changed = true;
        }
        attach(connection, contact.id, provider, &identities).await?;
        if effect.create {
            contact.apply(effect.fields.values(), at);
            if at > contact.last_event_at.as_str() {
                contact.last_event_at = at.to_owned();
            }
        }
        if changed {
            save(connection, &contact, now).await?;
        }
        return Ok(Some(contact.id));
    }
    Err(sqlx::Error::Protocol(format!("the contacts of one event kept being merged away ({LOOKUP_ROUNDS} lookups)")))
}

/// The ids of the contacts owning any of `identities`, ascending (the order rows are locked in).
async fn find<C: Sql>(connection: &mut C, identities: &[Identity]) -> Result<Vec<i64>, sqlx::Error> {
    let mut ids = Vec::new();
    for identity in identities {
        let args = [Arg::Text(Some(&identity.kind)), Arg::Text(Some(&identity.value))];
        let rows = connection
            .fetch("SELECT contact_id FROM contact_identities WHERE kind = $1 AND value = $2", &args, &[Kind::Int])
            .await?;
        ids.extend(rows.iter().filter_map(|row| row.first().and_then(Cell::int)));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

async fn create<C: Sql>(connection: &mut C, at: &str, now: &str) -> Result<Row, sqlx::Error> {
    let rows = connection
        .fetch(
            "INSERT INTO contacts (last_event_at, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
            &[Arg::Text(Some(at)), Arg::Text(Some(now))],
            &[Kind::Int],
        )
        .await?;
    let id = rows.first().and_then(|row| row.first()).and_then(Cell::int);
    let id = id.ok_or_else(|| sqlx::Error::Protocol("INSERT … RETURNING id returned no id".into()))?;
    Ok(Row { id, values: Default::default(), times: Default::default(), last_event_at: at.to_owned() })
}

/// Moves `gone`'s identities and activities to `keep` and deletes `gone` (its fields are merged by
/// the caller, [`Row::absorb`]).
async fn merge<C: Sql>(connection: &mut C, keep: i64, gone: i64) -> Result<(), sqlx::Error> {
    let args = [Arg::Int(Some(keep)), Arg::Int(Some(gone))];
    connection.execute("UPDATE contact_identities SET contact_id = $1 WHERE contact_id = $2", &args).await?;
    connection.execute("UPDATE activities SET contact_id = $1 WHERE contact_id = $2", &args).await?;
    connection.execute("DELETE FROM contacts WHERE id = $1", &[Arg::Int(Some(gone))]).await?;
    Ok(())
}

/// Gives `contact` the identities it lacks. A sender's lead id newly attached also links the
/// activities that referred to that lead before it arrived (a note before its record).
async fn attach<C: Sql>(
    connection: &mut C,
    contact: i64,
    provider: &str,
    identities: &[Identity],
) -> Result<(), sqlx::Error> {
    for identity in identities {
        let args = [Arg::Text(Some(&identity.kind)), Arg::Text(Some(&identity.value)), Arg::Int(Some(contact))];
        let inserted = connection
            .execute(
                "INSERT INTO contact_identities (kind, value, contact_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (kind, value) DO NOTHING",
                &args,
            )
            .await?;
        if inserted == 1 && identity.kind == provider {
            let args = [Arg::Int(Some(contact)), Arg::Text(Some(provider)), Arg::Text(Some(&identity.value))];
            connection
                .execute(
                    "UPDATE activities SET contact_id = $1 WHERE provider = $2 AND lead_id = $3 AND contact_id IS NULL",
                    &args,
                )
                .await?;
        }
    }
    Ok(())
}

async fn save<C: Sql>(connection: &mut C, contact: &Row, now: &str) -> Result<(), sqlx::Error> {
    let assignments: Vec<String> = Fields::COLUMNS
        .iter()
        .enumerate()
        .map(|(field, column)| format!("{column} = ${}, {column}_at = ${}", 2 * field + 1, 2 * field + 2))
        .collect();
    let sql =
        format!("UPDATE contacts SET {}, last_event_at = $13, updated_at = $14 WHERE id = $15", assignments.join(", "));
    let mut args = Vec::with_capacity(15);
    for (value, at) in contact.values.iter().zip(&contact.times) {
        args.extend([Arg::Text(value.as_deref()), Arg::Text(at.as_deref())]);
    }
    args.extend([Arg::Text(Some(&contact.last_event_at)), Arg::Text(Some(now)), Arg::Int(Some(contact.id))]);
    connection.execute(&sql, &args).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::database::tests::sqlite;

    fn effect(fields: Fields, identities: &[(&str, &str)], lead: Option<&str>) -> Effect {
        Effect {
            occurred_at: None,
            lead_id: lead.map(str::to_owned),
            identities: identities
                .iter()
                .map(|(kind, value)| Identity { kind: (*kind).into(), value: (*value).into() })
                .collect(),
            fields,
            create: true,
        }
    }

    async fn contact(connection: &mut sqlx::SqliteConnection, id: i64) -> Row {
        let cells = connection.fetch(&Row::select(""), &[Arg::Int(Some(id))], &Row::kinds()).await.unwrap();
        Row::decode(&cells[0]).unwrap()
    }

    #[tokio::test]
    async fn older_events_fill_missing_fields_and_never_overwrite_newer_ones() {
        let (pool, _dir) = sqlite().await;
        let mut connection = pool.acquire().await.unwrap();
        let connection = &mut *connection;
        let newer = Fields { name: Some("New".into()), company: Some("NewCo".into()), ..Fields::default() };
        let older = Fields { name: Some("Old".into()), title: Some("CTO".into()), ..Fields::default() };
        let id = upsert(connection, "botdog", &effect(newer, &[("email", "a@x.io")], None), "2026-01-02", "n")
            .await
            .unwrap()
            .unwrap();
        let same = upsert(connection, "botdog", &effect(older, &[("email", "a@x.io")], None), "2026-01-01", "n")
            .await
            .unwrap();
        assert_eq!(same, Some(id));
        let row = contact(connection, id).await;
        assert_eq!(row.values[0].as_deref(), Some("New"));
        assert_eq!(row.values[4].as_deref(), Some("NewCo"));
        assert_eq!(row.values[5].as_deref(), Some("CTO"), "a field the contact lacked is filled");
        assert_eq!(row.last_event_at, "2026-01-02");
    }

    #[tokio::test]
    async fn two_contacts_joined_by_one_event_are_merged_with_their_newest_fields() {
        let (pool, _dir) = sqlite().await;
        let mut connection = pool.acquire().await.unwrap();
        let connection = &mut *connection;
        let by_email = Fields { name: Some("Email".into()), ..Fields::default() };
        let by_phone = Fields { name: Some("Phone".into()), company: Some("Co".into()), ..Fields::default() };
        let first =
            upsert(connection, "pollybot", &effect(by_email, &[("email", "a@x.io")], Some("L1")), "2026-01-03", "n")
                .await
                .unwrap()
                .unwrap();
        let second = upsert(connection, "standard", &effect(by_phone, &[("phone", "+1555")], None), "2026-01-02", "n")
            .await
            .unwrap()
            .unwrap();
        assert_ne!(first, second);
        let both = effect(Fields::default(), &[("email", "a@x.io"), ("phone", "+1555")], None);
        let merged = upsert(connection, "botdog", &both, "2026-01-01", "n").await.unwrap();
        assert_eq!(merged, Some(first));
        let row = contact(connection, first).await;
        assert_eq!((row.values[0].as_deref(), row.values[4].as_deref()), (Some("Email"), Some("Co")));
        let rows = connection.fetch("SELECT count(*) FROM contacts", &[], &[Kind::Int]).await.unwrap();
        assert_eq!(rows[0][0].int(), Some(1));
        let found = find(connection, &[Identity { kind: "pollybot".into(), value: "L1".into() }]).await.unwrap();
        assert_eq!(found, [first]);
    }

    #[tokio::test]
    async fn an_event_about_an_unknown_lead_creates_nothing() {
        let (pool, _dir) = sqlite().await;
        let mut connection = pool.acquire().await.unwrap();
        let about = Effect { create: false, ..effect(Fields::default(), &[], Some("rec_1")) };
        assert_eq!(upsert(&mut *connection, "breakcold", &about, "2026-01-01", "n").await.unwrap(), None);
        let none = Effect::default();
        assert_eq!(upsert(&mut *connection, "breakcold", &none, "2026-01-01", "n").await.unwrap(), None);
    }
}
