//! Creates the template's resources in moto, through the SDK, as CloudFormation would.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Event, FilterRule, FilterRuleName,
    NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
    VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

use crate::template::{Resource, Template};

/// The SDK clients provisioning uses.
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// S3 (path-style).
    pub s3: aws_sdk_s3::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// Step Functions.
    pub sfn: aws_sdk_sfn::Client,
    /// SES v2.
    pub ses: aws_sdk_sesv2::Client,
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
}

fn key_schema(v: &Value) -> Result<Vec<KeySchemaElement>> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text(k, "/AttributeName").unwrap_or_default())
                .key_type(KeyType::from(text(k, "/KeyType").unwrap_or_default().as_str()))
                .build()
                .map_err(Into::into)
        })
        .collect()
}

/// Creates every table, queue, bucket and state machine of `template`.
pub async fn provision(template: &Template, template_dir: &Path, clients: &Clients, region: &str) -> Result<()> {
    for table in template.of_kind(&["AWS::DynamoDB::Table"]) {
        create_table(table, clients)
            .await
            .with_context(|| format!("creating table {}", table.logical_id))?;
    }
    // Dead-letter queues first: a redrive policy names its target.
    let mut queues: Vec<&Resource> = template.of_kind(&["AWS::SQS::Queue"]).collect();
    queues.sort_by_key(|q| q.properties.get("RedrivePolicy").is_some());
    for queue in queues {
        create_queue(queue, clients)
            .await
            .with_context(|| format!("creating queue {}", queue.logical_id))?;
    }
    for bucket in template.of_kind(&["AWS::S3::Bucket"]) {
        create_bucket(bucket, clients, region)
            .await
            .with_context(|| format!("creating bucket {}", bucket.logical_id))?;
    }
    for identity in template.of_kind(&["AWS::SES::EmailIdentity"]) {
        let email = text(&identity.properties, "/EmailIdentity").unwrap_or_default();
        clients
            .ses
            .create_email_identity()
            .email_identity(&email)
            .send()
            .await
            .with_context(|| format!("creating the SES identity {email}"))?;
    }
    for machine in template.of_kind(&["AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"]) {
        create_state_machine(machine, template_dir, clients)
            .await
            .with_context(|| format!("creating state machine {}", machine.logical_id))?;
    }
    Ok(())
}

async fn create_table(table: &Resource, clients: &Clients) -> Result<()> {
    let p = &table.properties;
    let mut request = clients
        .dynamodb
        .create_table()
        .table_name(&table.name)
        .billing_mode(BillingMode::from(
            text(p, "/BillingMode")
                .unwrap_or_else(|| "PAY_PER_REQUEST".into())
                .as_str(),
        ))
        .set_key_schema(Some(key_schema(p.get("KeySchema").unwrap_or(&Value::Null))?));
    for a in p
        .get("AttributeDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(a, "/AttributeName").unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(
                    text(a, "/AttributeType").unwrap_or_default().as_str(),
                ))
                .build()?,
        );
    }
    for g in p
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(g, "/IndexName").unwrap_or_default())
                .set_key_schema(Some(key_schema(g.get("KeySchema").unwrap_or(&Value::Null))?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            text(g, "/Projection/ProjectionType")
                                .unwrap_or_else(|| "ALL".into())
                                .as_str(),
                        ))
                        .build(),
                )
                .build()?,
        );
    }
    if let Some(view) = text(p, "/StreamSpecification/StreamViewType") {
        request = request.stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::from(view.as_str()))
                .build()?,
        );
    }
    request.send().await?;
    if let Some(attribute) = text(p, "/TimeToLiveSpecification/AttributeName") {
        clients
            .dynamodb
            .update_time_to_live()
            .table_name(&table.name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

async fn create_queue(queue: &Resource, clients: &Clients) -> Result<()> {
    let p = &queue.properties;
    let mut attributes = BTreeMap::new();
    for (property, attribute) in [
        ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
        ("MessageRetentionPeriod", QueueAttributeName::MessageRetentionPeriod),
        ("DelaySeconds", QueueAttributeName::DelaySeconds),
        (
            "ReceiveMessageWaitTimeSeconds",
            QueueAttributeName::ReceiveMessageWaitTimeSeconds,
        ),
    ] {
        if let Some(v) = text(p, &format!("/{property}")) {
            attributes.insert(attribute, v);
        }
    }
    if let Some(redrive) = p.get("RedrivePolicy") {
        attributes.insert(QueueAttributeName::RedrivePolicy, redrive.to_string());
    }
    clients
        .sqs
        .create_queue()
        .queue_name(&queue.name)
        .set_attributes(Some(attributes.into_iter().collect()))
        .send()
        .await?;
    Ok(())
}

async fn create_bucket(bucket: &Resource, clients: &Clients, region: &str) -> Result<()> {
    clients
        .s3
        .create_bucket()
        .bucket(&bucket.name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        )
        .send()
        .await?;
    let p = &bucket.properties;
    if text(p, "/VersioningConfiguration/Status").as_deref() == Some("Enabled") {
        clients
            .s3
            .put_bucket_versioning()
            .bucket(&bucket.name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await?;
    }
    let mut notification = NotificationConfiguration::builder();
    let mut any = false;
    for q in p
        .pointer("/NotificationConfiguration/QueueConfigurations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        any = true;
        let rules = q
            .pointer("/Filter/S3Key/Rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| {
                FilterRule::builder()
                    .name(FilterRuleName::from(text(r, "/Name").unwrap_or_default().as_str()))
                    .value(text(r, "/Value").unwrap_or_default())
                    .build()
            })
            .collect();
        notification = notification.queue_configurations(
            QueueConfiguration::builder()
                .queue_arn(text(q, "/Queue").ok_or_else(|| anyhow!("QueueConfigurations entry without Queue"))?)
                .events(Event::from(text(q, "/Event").unwrap_or_default().as_str()))
                .filter(
                    NotificationConfigurationFilter::builder()
                        .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                        .build(),
                )
                .build()?,
        );
    }
    if any {
        clients
            .s3
            .put_bucket_notification_configuration()
            .bucket(&bucket.name)
            .notification_configuration(notification.build())
            .send()
            .await?;
    }
    Ok(())
}

async fn create_state_machine(machine: &Resource, template_dir: &Path, clients: &Clients) -> Result<()> {
    let p = &machine.properties;
    let mut definition = match (p.get("DefinitionUri").and_then(Value::as_str), p.get("Definition")) {
        (Some(uri), _) => std::fs::read_to_string(template_dir.join(uri)).with_context(|| format!("reading {uri}"))?,
        (None, Some(inline)) => inline.to_string(),
        (None, None) => {
            return Err(anyhow!(
                "{} has neither DefinitionUri nor Definition",
                machine.logical_id
            ));
        }
    };
    for (name, value) in p
        .get("DefinitionSubstitutions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let value = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
        definition = definition.replace(&format!("${{{name}}}"), &value);
    }
    serde_json::from_str::<Value>(&definition)
        .with_context(|| format!("{} is not valid JSON after substitution", machine.logical_id))?;
    clients
        .sfn
        .create_state_machine()
        .name(&machine.name)
        .definition(definition)
        .role_arn(format!(
            "arn:aws:iam::{}:role/{}-role",
            crate::template::ACCOUNT_ID,
            machine.name
        ))
        .send()
        .await?;
    Ok(())
}
