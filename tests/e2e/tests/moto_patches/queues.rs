//! Patch 12: GetQueueAttributes for named attributes computes the queue's attributes once.

use anyhow::Result;
use aws_sdk_sqs::types::QueueAttributeName;

use super::Pair;

/// A queue with waiting, delayed and in-flight messages reports the same counts (and the same
/// names, an asked name twice once) as moto's own server; an unknown name is refused by both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_attributes_answer_as_moto_does() -> Result<()> {
    let pair = Pair::start().await?;
    let names = [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        QueueAttributeName::QueueArn,
        QueueAttributeName::ApproximateNumberOfMessages,
    ];
    let mut answers = Vec::new();
    for sqs in &pair.sqs {
        let url = sqs
            .create_queue()
            .queue_name("q")
            .send()
            .await?
            .queue_url()
            .unwrap_or_default()
            .to_string();
        for i in 0..30 {
            let delay = if i % 6 == 0 { 60 } else { 0 };
            sqs.send_message()
                .queue_url(&url)
                .message_body(format!("m{i}"))
                .delay_seconds(delay)
                .send()
                .await?;
        }
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(4)
            .visibility_timeout(60)
            .send()
            .await?;
        assert_eq!(received.messages().len(), 4);
        let out = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await?;
        let attributes = out.attributes().cloned().unwrap_or_default();
        let count = |name| attributes.get(&name).cloned().unwrap_or_default();
        assert_eq!(
            count(QueueAttributeName::ApproximateNumberOfMessages),
            "21",
            "30 sent, 5 delayed, 4 in flight"
        );
        assert_eq!(count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible), "4");
        assert_eq!(count(QueueAttributeName::ApproximateNumberOfMessagesDelayed), "5");
        let unknown = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::from("Nope"))
            .send()
            .await;
        assert!(unknown.is_err(), "an unknown attribute name is refused");
        answers.push(attributes);
    }
    assert_eq!(answers[0], answers[1], "the same attributes as moto's own server");
    Ok(())
}
