//! `infra/local/moto_server.py` changes how moto does its work, never what it answers (patches
//! 7-14 of its list: Query through sorted indexes, attribute values serialised directly; in
//! `executions.rs`, a definition's program and its JSONPaths kept; in `queues.rs`, queue
//! attributes computed once; in `dispatch.rs`, each host's service kept and no access log).
//! Patch 15 (one Lambda client for Step Functions' Task states) is exercised by every
//! end-to-end journey, whose every Task invokes a function through it. Each test starts moto's
//! own server and the patched one side by side, makes the same requests of both, and compares
//! the answers.

use std::collections::HashMap;

use anyhow::{Result, bail};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, Put, PutRequest, ScalarAttributeType, TransactWriteItem, Update, WriteRequest,
};
use baton_local::moto::{Moto, free_port};

#[path = "moto_patches/dispatch.rs"]
mod dispatch;
#[path = "moto_patches/executions.rs"]
mod executions;
#[path = "moto_patches/queues.rs"]
mod queues;

type Item = HashMap<String, AttributeValue>;

/// moto's own server and the patched one, with a DynamoDB and a Step Functions client each.
struct Pair {
    _servers: [Moto; 2],
    dynamodb: [aws_sdk_dynamodb::Client; 2],
    sfn: [aws_sdk_sfn::Client; 2],
    sqs: [aws_sdk_sqs::Client; 2],
}

impl Pair {
    async fn start() -> Result<Pair> {
        let root = baton_local::repository_root();
        let venv = root.join(".venv/bin");
        let log = Default::default();
        let script = [root.join("infra/local/moto_server.py").to_string_lossy().into_owned()];
        let (own_exe, patched_exe) = (venv.join("moto_server"), venv.join("python3"));
        let own = Moto::start_command(&own_exe, &[], free_port()?, free_port()?, &log);
        let patched = Moto::start_command(&patched_exe, &script, free_port()?, free_port()?, &log);
        let (own, patched) = tokio::join!(own, patched);
        let servers = [own?, patched?];
        let mut dynamodb = Vec::new();
        let mut sfn = Vec::new();
        let mut sqs = Vec::new();
        for server in &servers {
            let sdk = baton_local::local_sdk_config(&server.url, "eu-west-1").await;
            dynamodb.push(aws_sdk_dynamodb::Client::new(&sdk));
            sfn.push(aws_sdk_sfn::Client::new(&sdk));
            sqs.push(aws_sdk_sqs::Client::new(&sdk));
        }
        let [a, b]: [_; 2] = dynamodb.try_into().map_err(|_| anyhow::anyhow!("two clients"))?;
        let [c, d]: [_; 2] = sfn.try_into().map_err(|_| anyhow::anyhow!("two clients"))?;
        let [e, f]: [_; 2] = sqs.try_into().map_err(|_| anyhow::anyhow!("two clients"))?;
        Ok(Pair {
            _servers: servers,
            dynamodb: [a, b],
            sfn: [c, d],
            sqs: [e, f],
        })
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

/// A small deterministic generator, so both servers get the same writes and every run the same.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

const PREFIXES: [&str; 6] = ["a", "ab", "abc", "b", "ba", "x"];

fn sort_key(rng: &mut Lcg) -> String {
    format!("{}{}", rng.pick(&PREFIXES), rng.below(12))
}

/// An item of `pk`/`sk` with attributes of every type, and index keys most of the time.
fn item(rng: &mut Lcg, pk: &str, sk: &str) -> Item {
    let mut item: Item = [("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))].into();
    item.insert("n".into(), AttributeValue::N(rng.below(1000).to_string()));
    if rng.below(10) < 7 {
        item.insert("gsi1pk".into(), s(rng.pick(&["G#0", "G#1"])));
        // Two characters: items share index sort keys, which the table's key then orders.
        let index_sort_key = sort_key(rng);
        item.insert("gsi1sk".into(), s(&index_sort_key[..2]));
    }
    if rng.below(3) == 0 {
        let nested = AttributeValue::L(vec![
            s("x"),
            AttributeValue::N("1.5".into()),
            AttributeValue::Bool(true),
        ]);
        item.insert(
            "m".into(),
            AttributeValue::M([("l".to_string(), nested), ("z".to_string(), AttributeValue::Null(true))].into()),
        );
        item.insert(
            "b".into(),
            AttributeValue::B(vec![0u8, 255, rng.below(256) as u8].into()),
        );
        item.insert("ss".into(), AttributeValue::Ss(vec!["p".into(), "q".into()]));
        item.insert("ns".into(), AttributeValue::Ns(vec!["1".into(), "2".into()]));
    }
    item
}

async fn create_table(client: &aws_sdk_dynamodb::Client) -> Result<()> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    client
        .create_table()
        .table_name("t")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .attribute_definitions(attribute("gsi1pk")?)
        .attribute_definitions(attribute("gsi1sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("gsi1")
                .key_schema(key("gsi1pk", KeyType::Hash)?)
                .key_schema(key("gsi1sk", KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// The same writes on both servers: puts, index keys set and removed, deletes, batches, and
/// transactions that fail (undone) or succeed. Each write must succeed or fail on both alike.
async fn write_history(pair: &Pair, writes: usize) -> Result<()> {
    let mut rng = Lcg(7);
    for step in 0..writes {
        if step % 40 == 0 {
            // Queries between writes: the patched server's index is built at the first one and
            // must then follow every kind of write.
            for (index, partition) in [(Some("gsi1"), "G#0"), (None, "P#1")] {
                let walk = Walk {
                    index,
                    partition: partition.into(),
                    condition: None,
                    forward: true,
                    limit: Some(4),
                    filter: false,
                };
                same_pages(pair, &walk).await?;
            }
        }
        let pk = format!("P#{}", rng.below(3));
        let sk = sort_key(&mut rng);
        let key: Item = [("pk".to_string(), s(&pk)), ("sk".to_string(), s(&sk))].into();
        let kind = rng.below(20);
        let new_item = item(&mut rng, &pk, &sk);
        let index_keys = (rng.pick(&["G#0", "G#1"]), sort_key(&mut rng));
        let mut outcomes = Vec::new();
        for client in &pair.dynamodb {
            let outcome = match kind {
                0..=10 => client
                    .put_item()
                    .table_name("t")
                    .set_item(Some(new_item.clone()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                11..=12 => client
                    .update_item()
                    .table_name("t")
                    .set_key(Some(key.clone()))
                    .update_expression("SET gsi1pk = :p, gsi1sk = :s")
                    .expression_attribute_values(":p", s(index_keys.0))
                    .expression_attribute_values(":s", s(&index_keys.1))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                13 => client
                    .update_item()
                    .table_name("t")
                    .set_key(Some(key.clone()))
                    .update_expression("REMOVE gsi1sk")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                14..=15 => client
                    .delete_item()
                    .table_name("t")
                    .set_key(Some(key.clone()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                16 => {
                    let mut puts = Vec::new();
                    for i in 0..3 {
                        let mut put = new_item.clone();
                        put.insert("sk".into(), s(&format!("{sk}{i}")));
                        puts.push(
                            WriteRequest::builder()
                                .put_request(PutRequest::builder().set_item(Some(put)).build()?)
                                .build(),
                        );
                    }
                    client
                        .batch_write_item()
                        .request_items("t", puts)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                _ => {
                    // Sets the index keys of an item and puts another; the condition fails every
                    // other time, and then both are undone.
                    let update = Update::builder()
                        .table_name("t")
                        .set_key(Some(key.clone()))
                        .update_expression("SET gsi1pk = :p, gsi1sk = :s")
                        .expression_attribute_values(":p", s(index_keys.0))
                        .expression_attribute_values(":s", s(&index_keys.1))
                        .build()?;
                    let mut other = new_item.clone();
                    other.insert("sk".into(), s(&format!("{sk}t")));
                    let check_key: Item = [
                        ("pk".to_string(), s("P#0")),
                        ("sk".to_string(), s(if step % 2 == 0 { "missing" } else { "a0" })),
                    ]
                    .into();
                    let check = ConditionCheck::builder()
                        .table_name("t")
                        .set_key(Some(check_key))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()?;
                    client
                        .transact_write_items()
                        .transact_items(TransactWriteItem::builder().update(update).build())
                        .transact_items(
                            TransactWriteItem::builder()
                                .put(Put::builder().table_name("t").set_item(Some(other)).build()?)
                                .build(),
                        )
                        .transact_items(TransactWriteItem::builder().condition_check(check).build())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            };
            outcomes.push(outcome.is_ok());
        }
        if outcomes[0] != outcomes[1] {
            bail!(
                "write {step} (kind {kind}): moto {} and the patched server {}",
                outcomes[0],
                outcomes[1]
            );
        }
    }
    Ok(())
}

/// One page of a Query: its items in order, Count, ScannedCount, LastEvaluatedKey.
type Page = (Vec<Item>, i32, i32, Option<Item>);

/// A Query as both servers answer it, page by page until the last, which must be the same.
struct Walk<'a> {
    index: Option<&'a str>,
    partition: String,
    condition: Option<(&'a str, Vec<String>)>,
    forward: bool,
    limit: Option<i32>,
    filter: bool,
}

async fn pages(client: &aws_sdk_dynamodb::Client, walk: &Walk<'_>) -> Result<Vec<Page>> {
    let (hash, range) = if walk.index.is_some() {
        ("gsi1pk", "gsi1sk")
    } else {
        ("pk", "sk")
    };
    let mut expression = format!("{hash} = :h");
    let mut values: HashMap<String, AttributeValue> = [(":h".to_string(), s(&walk.partition))].into();
    if let Some((op, operands)) = &walk.condition {
        expression += &match *op {
            "BETWEEN" => format!(" AND {range} BETWEEN :v0 AND :v1"),
            "begins_with" => format!(" AND begins_with({range}, :v0)"),
            op => format!(" AND {range} {op} :v0"),
        };
        for (i, operand) in operands.iter().enumerate() {
            values.insert(format!(":v{i}"), s(operand));
        }
    }
    if walk.filter {
        values.insert(":big".into(), AttributeValue::N("500".into()));
    }
    let mut start = None;
    let mut pages = Vec::new();
    loop {
        let mut query = client
            .query()
            .table_name("t")
            .set_index_name(walk.index.map(str::to_string))
            .key_condition_expression(&expression)
            .set_expression_attribute_values(Some(values.clone()))
            .scan_index_forward(walk.forward)
            .set_limit(walk.limit)
            .set_exclusive_start_key(start.take());
        if walk.filter {
            query = query.filter_expression("n > :big");
        }
        let out = query.send().await?;
        let page: Page = (
            out.items().to_vec(),
            out.count(),
            out.scanned_count(),
            out.last_evaluated_key().cloned(),
        );
        start = page.3.clone();
        pages.push(page);
        if start.is_none() || pages.len() > 300 {
            return Ok(pages);
        }
    }
}

/// The walk's pages from both servers, which must be the same.
async fn same_pages(pair: &Pair, walk: &Walk<'_>) -> Result<Vec<Page>> {
    let own = pages(&pair.dynamodb[0], walk).await?;
    let patched = pages(&pair.dynamodb[1], walk).await?;
    if own != patched {
        bail!(
            "index {:?}, partition {}, condition {:?}, forward {}, limit {:?}, filter {}:\nmoto: {own:?}\npatched: {patched:?}",
            walk.index,
            walk.partition,
            walk.condition,
            walk.forward,
            walk.limit,
            walk.filter
        );
    }
    Ok(own)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_answer_as_moto_does_page_by_page() -> Result<()> {
    let pair = Pair::start().await?;
    for client in &pair.dynamodb {
        create_table(client).await?;
    }
    write_history(&pair, 400).await?;

    let conditions: Vec<Option<(&str, Vec<String>)>> = vec![
        None,
        Some(("=", vec!["ab3".into()])),
        Some(("<", vec!["b".into()])),
        Some(("<=", vec!["ab3".into()])),
        Some((">", vec!["ab".into()])),
        Some((">=", vec!["ba1".into()])),
        Some(("BETWEEN", vec!["ab".into(), "b5".into()])),
        Some(("begins_with", vec!["ab".into()])),
        Some(("begins_with", vec!["q".into()])),
    ];
    let (mut compared, mut items, mut continued) = (0, 0, 0);
    for index in [None, Some("gsi1")] {
        let partitions: &[&str] = if index.is_some() {
            &["G#0", "G#1", "G#9"]
        } else {
            &["P#0", "P#1", "P#2", "P#9"]
        };
        for partition in partitions {
            for condition in &conditions {
                for forward in [true, false] {
                    for (limit, filter) in [(None, false), (Some(2), false), (Some(5), true)] {
                        let walk = Walk {
                            index,
                            partition: partition.to_string(),
                            condition: condition.clone(),
                            forward,
                            limit,
                            filter,
                        };
                        let own = same_pages(&pair, &walk).await?;
                        compared += 1;
                        items += own.iter().map(|p| p.0.len()).sum::<usize>();
                        continued += own.iter().filter(|p| p.3.is_some()).count();
                    }
                }
            }
        }
    }
    // Not a comparison of empty answers: the walks return items and go on over pages.
    eprintln!("{compared} walks, {items} items, {continued} pages continued");
    assert!(
        compared > 300 && items > 2000 && continued > 1000,
        "{compared} walks, {items} items, {continued} pages continued"
    );

    // Items of every attribute type read back alike (patch 9), one by one and in a batch.
    let mut rng = Lcg(11);
    let keys: Vec<Item> = (0..40)
        .map(|_| {
            [
                ("pk".to_string(), s(&format!("P#{}", rng.below(3)))),
                ("sk".to_string(), s(&sort_key(&mut rng))),
            ]
            .into()
        })
        .collect();
    let mut found = 0;
    for key in &keys {
        let [own, patched] = [&pair.dynamodb[0], &pair.dynamodb[1]]
            .map(|c| c.get_item().table_name("t").set_key(Some(key.clone())).send());
        let (own, patched) = (own.await?, patched.await?);
        assert_eq!(own.item(), patched.item(), "GetItem {key:?}");
        found += usize::from(own.item().is_some_and(|i| i.contains_key("b")));
    }
    assert!(found > 0, "some items read carry every type");
    let batch = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
        .set_keys(Some(keys[..20].to_vec()))
        .build()?;
    let mut answers = Vec::new();
    for client in &pair.dynamodb {
        let out = client.batch_get_item().request_items("t", batch.clone()).send().await?;
        let mut items = out.responses().and_then(|r| r.get("t")).cloned().unwrap_or_default();
        items.sort_by_key(|i| format!("{:?}{:?}", i.get("pk"), i.get("sk")));
        answers.push(items);
    }
    assert_eq!(answers[0], answers[1], "BatchGetItem");
    Ok(())
}
