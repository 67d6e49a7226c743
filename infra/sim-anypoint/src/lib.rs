//! A local simulator of the Anypoint Platform API (token, me, environments, Exchange, CloudHub 2.0 deployments, fault injection).
