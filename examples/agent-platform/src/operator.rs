//! What an operator's back office does: tenants, users, API keys, the SMS outbox's sender;
//! used by `--demo` (two demo tenants) and by the tests.

use std::sync::Arc;

use palisade_auth::{KeySpec, ScopeSet, SubjectId};
use palisade_otp::SecretString;
use palisade_pii::{Context, ExposeSecret};
use palisade_postgres::sqlx::{self, Row};
use palisade_rbac::{RoleName, TenantId};

use crate::Platform;
use crate::error::StartError;
use crate::routes::calls::normalize_phone;

/// The password of every demo user (public: the demo runs on loopback addresses only).
pub const DEMO_PASSWORD: &str = "correct horse battery staple";

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// `owner`, `admin`, `agent` or `customer` (a role of `policy.toml`).
    pub role: &'a str,
    /// The sign-in e-mail.
    pub email: &'a str,
    /// The SMS sign-in number, as typed (normalized to E.164).
    pub phone: Option<&'a str>,
    /// The password (none: SMS sign-in only).
    pub password: Option<&'a str>,
}

fn component(e: impl std::fmt::Display) -> StartError {
    StartError::component(e)
}

impl Platform {
    /// Creates `id` with a display name and a service tier (`free`, `basic`, `pro`,
    /// `enterprise`); an existing tenant keeps its rows and takes the tier.
    ///
    /// # Errors
    /// [`StartError`] when the id is not a tenant id or Postgres fails.
    pub async fn create_tenant(&self, id: &str, name: &str, tier: &str) -> Result<(), StartError> {
        TenantId::new(id).map_err(component)?;
        tier.parse::<palisade_ratelimit::Tier>()
            .map_err(component)?;
        sqlx::query(self.state.sql(
            "INSERT INTO __S__.tenants (id, name, tier) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET tier = EXCLUDED.tier",
        ))
        .bind(id)
        .bind(name)
        .bind(tier)
        .execute(&self.state.pool)
        .await
        .map_err(component)?;
        Ok(())
    }

    /// Creates a user (e-mail and phone encrypted with blind indexes, password hashed with
    /// argon2id) and assigns its role in palisade-rbac's store; returns its id, or the id of
    /// the user who already has this e-mail in the tenant.
    ///
    /// # Errors
    /// [`StartError`] for an invalid role, phone or tenant, or a store failure.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<i64, StartError> {
        let state = &self.state;
        let tenant = TenantId::new(user.tenant).map_err(component)?;
        let role = RoleName::new(user.role).map_err(component)?;
        let email_idx = state
            .keyring
            .blind_index(&state.email_index, user.tenant, user.email)
            .map_err(component)?
            .to_hex();
        let phone = match user.phone {
            Some(p) => Some(normalize_phone(p).map_err(|_| component("invalid phone"))?),
            None => None,
        };
        let phc = match user.password {
            Some(p) => {
                let passwords = Arc::clone(&state.passwords);
                let p = SecretString::from(p);
                Some(
                    tokio::task::spawn_blocking(move || passwords.hash(&p))
                        .await
                        .map_err(component)?
                        .map_err(component)?,
                )
            }
            None => None,
        };
        let existing = sqlx::query(
            state.sql("SELECT id FROM __S__.users WHERE tenant_id = $1 AND email_idx = $2"),
        )
        .bind(user.tenant)
        .bind(&email_idx)
        .fetch_optional(&state.pool)
        .await
        .map_err(component)?;
        let id: i64 = match existing {
            Some(row) => row.try_get("id").map_err(component)?,
            None => sqlx::query(state.sql(
                "INSERT INTO __S__.users (tenant_id, role, email_enc, email_idx, password_phc) \
                 VALUES ($1, $2, '', $3, $4) RETURNING id",
            ))
            .bind(user.tenant)
            .bind(user.role)
            .bind(&email_idx)
            .bind(&phc)
            .fetch_one(&state.pool)
            .await
            .and_then(|r| r.try_get("id"))
            .map_err(component)?,
        };
        let row = id.to_string();
        let enc = |column: &str, value: &str| {
            state
                .keyring
                .encrypt_to_text(
                    &Context::new(user.tenant, "users", column, &row),
                    value.as_bytes(),
                )
                .map_err(component)
        };
        let email_enc = enc("email", user.email)?;
        let (phone_enc, phone_idx) = match &phone {
            Some(p) => (
                Some(enc("phone", p)?),
                Some(
                    state
                        .keyring
                        .blind_index(&state.user_phone_index, user.tenant, p)
                        .map_err(component)?
                        .to_hex(),
                ),
            ),
            None => (None, None),
        };
        sqlx::query(state.sql(
            "UPDATE __S__.users SET role = $3, email_enc = $4, phone_enc = $5, phone_idx = $6, \
             password_phc = COALESCE($7, password_phc) WHERE tenant_id = $1 AND id = $2",
        ))
        .bind(user.tenant)
        .bind(id)
        .bind(user.role)
        .bind(email_enc)
        .bind(phone_enc)
        .bind(phone_idx)
        .bind(&phc)
        .execute(&state.pool)
        .await
        .map_err(component)?;
        let subject = SubjectId::new(format!("u-{id}")).map_err(component)?;
        state
            .assignments
            .assign(&tenant, &subject, &role)
            .await
            .map_err(component)?;
        Ok(id)
    }

    /// Issues an API key for machine client `client` of `tenant` with `scopes` (space
    /// separated); returns the key, shown once.
    ///
    /// # Errors
    /// [`StartError`] for invalid names or scopes, or a store failure.
    pub async fn issue_api_key(
        &self,
        tenant: &str,
        client: &str,
        scopes: &str,
    ) -> Result<String, StartError> {
        let issued = self
            .state
            .api_keys
            .issue(KeySpec {
                tenant: TenantId::new(tenant).map_err(component)?,
                owner: SubjectId::new(client).map_err(component)?,
                scopes: ScopeSet::parse_list(scopes).map_err(component)?,
                ttl: None,
            })
            .await
            .map_err(component)?;
        Ok(issued.key.expose_secret().to_owned())
    }

    /// The messages of `tenant`'s SMS outbox not sent yet, oldest first, decrypted for the
    /// sender (there is no SMS provider in this example: the log stands for it): `(id,
    /// recipient in E.164, text)`.
    ///
    /// # Errors
    /// [`StartError`] for a store or decryption failure.
    pub async fn pending_sms(
        &self,
        tenant: &str,
    ) -> Result<Vec<(i64, String, String)>, StartError> {
        let state = &self.state;
        let rows = sqlx::query(state.sql(
            "SELECT id, to_enc, body_enc FROM __S__.sms_outbox \
             WHERE tenant_id = $1 AND sent_at IS NULL ORDER BY id",
        ))
        .bind(tenant)
        .fetch_all(&state.pool)
        .await
        .map_err(component)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id").map_err(component)?;
            let key = id.to_string();
            let open = |column: &str, text: &str| {
                state
                    .keyring
                    .decrypt_text(&Context::new(tenant, "sms_outbox", column, &key), text)
                    .map(|clear| String::from_utf8_lossy(clear.expose_secret()).into_owned())
                    .map_err(component)
            };
            let to: String = row.try_get("to_enc").map_err(component)?;
            let body: String = row.try_get("body_enc").map_err(component)?;
            out.push((id, open("to", &to)?, open("body", &body)?));
        }
        Ok(out)
    }

    /// The demo: tenants `acme` (pro) and `globex` (free), their users (password
    /// [`DEMO_PASSWORD`]) and API keys; returns what to print.
    ///
    /// # Errors
    /// As [`create_user`](Self::create_user).
    pub async fn seed_demo(&self) -> Result<String, StartError> {
        self.create_tenant("acme", "Acme Dental", "pro").await?;
        self.create_tenant("globex", "Globex Salon", "free").await?;
        let users = [
            ("acme", "owner", "owner@acme.test", None),
            ("acme", "admin", "admin@acme.test", Some("+1 415 555 0100")),
            ("acme", "agent", "agent@acme.test", Some("+1 415 555 0101")),
            (
                "acme",
                "customer",
                "alice@acme.test",
                Some("+1 415 555 0102"),
            ),
            ("acme", "customer", "bob@acme.test", Some("+1 415 555 0103")),
            (
                "globex",
                "admin",
                "admin@globex.test",
                Some("+1 415 555 0200"),
            ),
            (
                "globex",
                "customer",
                "carol@globex.test",
                Some("+1 415 555 0201"),
            ),
        ];
        let mut out = String::from("demo tenants: acme (tier pro), globex (tier free)\n");
        for (tenant, role, email, phone) in users {
            let id = self
                .create_user(&NewUser {
                    tenant,
                    role,
                    email,
                    phone,
                    password: Some(DEMO_PASSWORD),
                })
                .await?;
            out.push_str(&format!(
                "  user u-{id} {tenant} {role:<8} {email:<20} phone {}\n",
                phone.unwrap_or("-")
            ));
        }
        for (tenant, client, scopes) in [
            ("acme", "crm-sync", "calls:read"),
            ("acme", "ops-bot", "admin:*"),
            ("globex", "crm-sync", "calls:read"),
        ] {
            let key = self.issue_api_key(tenant, client, scopes).await?;
            out.push_str(&format!("  api key {tenant} {client} [{scopes}]: {key}\n"));
        }
        out.push_str(&format!(
            "sign in: curl -s -X POST http://<listen>/auth/password -H 'content-type: application/json' \
             -d '{{\"tenant\":\"acme\",\"email\":\"admin@acme.test\",\"password\":\"{DEMO_PASSWORD}\"}}'\n\
             then: curl -s http://<listen>/calls -H 'authorization: Bearer <token or api key>'\n\
             walk every behaviour: examples/agent-platform/scripts/demo.sh\n"
        ));
        Ok(out)
    }
}
