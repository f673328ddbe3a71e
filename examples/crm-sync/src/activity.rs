//! Recording one handled delivery: its contact's changes, then its activity row.

use crate::contact;
use crate::database::{Arg, Cell, Kind, Sql};
use crate::effect::Effect;

/// One delivery, as its `activities` row records it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Activity<'a> {
    /// The sender (`botdog`, …, `standard`).
    pub(crate) provider: &'a str,
    /// The delivery's dedup id.
    pub(crate) delivery_id: &'a str,
    /// The event type as sent.
    pub(crate) event_type: &'a str,
    /// When the event happened, as stored ([`time_text`](crate::effect::time_text)).
    pub(crate) occurred_at: &'a str,
    /// When crm-sync received it, as stored.
    pub(crate) received_at: &'a str,
    /// The typed event as JSON (for Breakcold legacy, without its `secret`).
    pub(crate) payload: &'a str,
}

/// What recording a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// The contact the activity belongs to, if any.
    pub(crate) contact_id: Option<i64>,
    /// `true` when the activity was already recorded: its inbox row was purged after its ttl and
    /// the sender delivered it again. Nothing was changed.
    pub(crate) already: bool,
}

/// Applies `effect` to the contacts and inserts the activity, on `connection` (the completion's
/// transaction: everything commits with the claim, or nothing does).
///
/// # Errors
///
/// The database's error (the caller rolls back and answers 500; the sender retries).
pub(crate) async fn record<C: Sql>(
    connection: &mut C,
    activity: &Activity<'_>,
    effect: &Effect,
) -> Result<Recorded, sqlx::Error> {
    // The inbox already makes the handler run once per delivery id while the id is kept; this
    // check keeps a delivery re-sent after that from being applied twice.
    let args = [Arg::Text(Some(activity.provider)), Arg::Text(Some(activity.delivery_id))];
    let existing = connection
        .fetch("SELECT contact_id FROM activities WHERE provider = $1 AND delivery_id = $2", &args, &[Kind::Int])
        .await?;
    if let Some(row) = existing.first() {
        return Ok(Recorded { contact_id: row.first().and_then(Cell::int), already: true });
    }
    let contact_id =
        contact::upsert(connection, activity.provider, effect, activity.occurred_at, activity.received_at).await?;
    let args = [
        Arg::Text(Some(activity.provider)),
        Arg::Text(Some(activity.delivery_id)),
        Arg::Text(Some(activity.event_type)),
        Arg::Text(Some(activity.occurred_at)),
        Arg::Text(Some(activity.received_at)),
        Arg::Int(contact_id),
        Arg::Text(effect.lead_id.as_deref()),
        Arg::Text(Some(activity.payload)),
    ];
    connection
        .execute(
            "INSERT INTO activities (provider, delivery_id, event_type, occurred_at, received_at, contact_id, lead_id, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &args,
        )
        .await?;
    Ok(Recorded { contact_id, already: false })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::database::tests::sqlite;

    fn activity<'a>(provider: &'a str, id: &'a str, at: &'a str) -> Activity<'a> {
        Activity { provider, delivery_id: id, event_type: "t", occurred_at: at, received_at: at, payload: "{}" }
    }

    #[tokio::test]
    async fn a_note_before_its_record_is_linked_when_the_record_arrives_and_redeliveries_change_nothing() {
        let (pool, _dir) = sqlite().await;
        let mut connection = pool.acquire().await.unwrap();
        let connection = &mut *connection;
        let note = Effect::about(None, Some("rec_1"));
        let recorded = record(connection, &activity("breakcold", "n1", "2026-01-02"), &note).await.unwrap();
        assert_eq!(recorded, Recorded { contact_id: None, already: false });

        let mut person = Effect { lead_id: Some("rec_1".into()), create: true, ..Effect::default() };
        person.add_email(Some("lena@x.io"));
        let recorded = record(connection, &activity("breakcold", "r1", "2026-01-01"), &person).await.unwrap();
        let contact = recorded.contact_id.unwrap();
        let rows = connection
            .fetch("SELECT contact_id FROM activities ORDER BY delivery_id", &[], &[Kind::Int])
            .await
            .unwrap();
        assert_eq!(rows, [vec![Cell::Int(Some(contact))], vec![Cell::Int(Some(contact))]]);

        let again = record(connection, &activity("breakcold", "r1", "2026-01-01"), &person).await.unwrap();
        assert_eq!(again, Recorded { contact_id: Some(contact), already: true });
        let count = connection.fetch("SELECT count(*) FROM activities", &[], &[Kind::Int]).await.unwrap();
        assert_eq!(count[0][0].int(), Some(2));
    }
}
