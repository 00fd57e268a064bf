//! Invoice PDFs and shared documents: size limits, content checks, idempotent uploads.

use axum::http::StatusCode;
use serde_json::json;

use crate::feed_support::{put, seed_references, send_bytes, token};
use crate::support::TestApp;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

async fn invoice(app: &TestApp, token: &str) {
    let line =
        json!({ "description": "Labour", "quantity_hundredths": 100, "unit_price_cents": 100 });
    let body = json!({ "client": "C1", "number": "INV-9", "issued_on": "2026-11-01", "due_on": "2026-11-30", "lines": [line] });
    put(app, token, "acme", "invoices", "I-9", body, "created").await;
}

#[tokio::test]
async fn invoice_pdfs_are_checked_stored_once_and_replaced() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    invoice(&app, &token).await;
    let path = "/api/v1/acme/invoices/by-external-id/I-9/pdf";

    let (not_pdf, problem) = send_bytes(
        &app,
        "PUT",
        path,
        &token,
        "application/pdf",
        Some(b"<html>".to_vec()),
    )
    .await;
    assert_eq!(not_pdf.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"]["pdf"],
        "The file's content is not application/pdf."
    );
    let (wrong_type, _) =
        send_bytes(&app, "PUT", path, &token, "text/plain", Some(PDF.to_vec())).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut huge = PDF.to_vec();
    huge.resize(10 * 1024 * 1024 + 1, b' ');
    let (too_big, problem) =
        send_bytes(&app, "PUT", path, &token, "application/pdf", Some(huge)).await;
    assert_eq!(too_big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["errors"]["pdf"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 10485760 bytes")
    );
    let (empty, _) = send_bytes(
        &app,
        "PUT",
        path,
        &token,
        "application/pdf",
        Some(Vec::new()),
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    let (stored, answer) = send_bytes(
        &app,
        "PUT",
        path,
        &token,
        "application/pdf",
        Some(PDF.to_vec()),
    )
    .await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    let first_document = answer["row"]["pdf_document_id"].as_i64();
    assert!(first_document.is_some());
    let (_, again) = send_bytes(
        &app,
        "PUT",
        path,
        &token,
        "application/pdf",
        Some(PDF.to_vec()),
    )
    .await;
    assert_eq!(again["status"], "unchanged");
    let mut second = PDF.to_vec();
    second.extend_from_slice(b"% v2\n");
    let (_, replaced) = send_bytes(
        &app,
        "PUT",
        path,
        &token,
        "application/pdf",
        Some(second.clone()),
    )
    .await;
    assert_eq!(replaced["status"], "updated");
    let documents: Vec<Vec<u8>> = sqlx::query_scalar("SELECT content FROM documents")
        .fetch_all(&app.state.db().pool)
        .await
        .expect("documents");
    assert_eq!(documents, vec![second], "the old PDF is removed");

    let (missing, _) = send_bytes(
        &app,
        "PUT",
        "/api/v1/acme/invoices/by-external-id/I-404/pdf",
        &token,
        "application/pdf",
        Some(PDF.to_vec()),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        app.audit_actions("acme")
            .await
            .contains(&"invoice file created".to_owned())
    );
}

#[tokio::test]
async fn documents_are_shared_with_a_client_and_checked_against_their_type() {
    let app = TestApp::spawn().await;
    let token = token(&app, "acme").await;
    seed_references(&app, &token, "acme").await;
    let path =
        "/api/v1/acme/documents/by-external-id/D1?client=C1&title=Site%20rules&file_name=rules.txt";
    let text = b"Hard hats on site.\n".to_vec();

    let (created, answer) = send_bytes(
        &app,
        "PUT",
        path,
        &token,
        "text/plain; charset=utf-8",
        Some(text.clone()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(answer["row"]["title"], "Site rules");
    assert_eq!(answer["row"]["size_bytes"], 19);
    assert!(answer["row"].get("content").is_none());
    let (_, again) = send_bytes(&app, "PUT", path, &token, "text/plain", Some(text)).await;
    assert_eq!(again["status"], "unchanged");

    let (fake_png, problem) = send_bytes(
        &app,
        "PUT",
        path,
        &token,
        "image/png",
        Some(b"GIF89a".to_vec()),
    )
    .await;
    assert_eq!(fake_png.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"]["file"],
        "The file's content is not image/png."
    );
    let (exe, problem) = send_bytes(
        &app,
        "PUT",
        path,
        &token,
        "application/x-msdownload",
        Some(b"MZ".to_vec()),
    )
    .await;
    assert_eq!(exe.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"]["content_type"].is_string());
    let (no_client, problem) = send_bytes(
        &app,
        "PUT",
        "/api/v1/acme/documents/by-external-id/D2?file_name=a/b.txt",
        &token,
        "text/plain",
        Some(b"x".to_vec()),
    )
    .await;
    assert_eq!(no_client.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["errors"]["client"],
        "Enter the client's external id."
    );
    assert_eq!(
        problem["errors"]["file_name"],
        "The file name cannot contain slashes."
    );
}
