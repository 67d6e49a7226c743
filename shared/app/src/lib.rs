//! Baton's handlers: each Lambda function's use case, written against the domain's ports,
//! and the glue that runs one on the Lambda runtime. The local stack calls the same
//! handlers in process.

pub mod announce;
pub mod approve;
pub mod deliver;
pub mod deploy_cloudhub;
pub mod deploy_context;
pub mod deploy_pages;
pub mod drift;
pub mod function;
pub mod http;
pub mod ingest;
pub mod lambda;
pub mod lifecycle;
pub mod links;
pub mod notify;
pub mod redeploys;
pub mod sqs_batch;
pub mod status;
pub mod subscribers;
pub mod timeline;
pub mod wiring;

pub use function::Function;
