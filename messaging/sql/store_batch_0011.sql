-- messaging_message_store_batch: several sends in one round trip (the socket's group commit).
--
-- The sends a process's event loop gathers while its previous batch is on its way
-- (messaging.services.loop_sends) are stored by one call: each by messaging_message_store, in the
-- order given, so everything that function promises holds for each (membership and the reply checked
-- after the lock, seq in the order sent, nothing written for a refused one). Returns one row per send,
-- in that order. Installed by migration 0011 from this file; a change is a new file and migration.
--
-- Every row a batch locks is locked first, in one order: the conversations by id, then the senders'
-- participant rows by id (the order the delivery receipts take participant rows in). A batch holding
-- one conversation's rows while waiting for another's would otherwise wait in a circle with a batch of
-- another process, or with the receipts, and PostgreSQL would break the circle only after a second.
CREATE OR REPLACE FUNCTION messaging_message_store_batch(
    p_conversations bigint[], p_senders bigint[], p_types text[], p_contents text[], p_reply_tos bigint[],
    p_client_ids text[], p_created timestamptz[]
) RETURNS TABLE (is_member boolean, reply_ok boolean, new_seq bigint, new_id bigint, member_ids bigint[])
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM messaging_conversation WHERE id = ANY (p_conversations) ORDER BY id FOR UPDATE;
    PERFORM 1 FROM messaging_participant p
      JOIN unnest(p_conversations, p_senders) AS s (conversation_id, user_id)
        ON p.conversation_id = s.conversation_id AND p.user_id = s.user_id
     ORDER BY p.id FOR UPDATE OF p;
    FOR i IN 1 .. cardinality(p_conversations) LOOP
        SELECT * INTO is_member, reply_ok, new_seq, new_id, member_ids FROM messaging_message_store(
            p_conversations[i], p_senders[i], p_types[i], p_contents[i], p_reply_tos[i], p_client_ids[i],
            p_created[i]);
        RETURN NEXT;
    END LOOP;
END
$$;
