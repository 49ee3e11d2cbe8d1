package dev.weldr.admin;

/** A hypermedia link, as the weldr API has always given them. */
public record Link(String rel, String href, String method) {
}
