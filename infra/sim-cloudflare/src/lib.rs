//! A local simulator of the Cloudflare Pages API (v4 envelope, Direct Upload, deployments, sites served, fault injection).
