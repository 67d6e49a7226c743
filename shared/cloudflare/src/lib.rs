//! Cloudflare Pages Direct Upload API client (what wrangler pages deploy does).
