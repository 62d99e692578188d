-- Reference data: the six quality dimensions (weights sum to 1), the five classification
-- levels and the ten PII patterns. Later changes go in new migrations, never here.

INSERT INTO quality.dimensions (dimension_name, weight, description) VALUES
    ('completeness', 0.250, 'Required values are present: share of non-null, non-empty values in required columns.'),
    ('uniqueness', 0.150, 'Keys identify one row: share of rows whose key is not duplicated.'),
    ('timeliness', 0.150, 'Data is fresh: the newest landed row is younger than the source''s freshness limit.'),
    ('validity', 0.200, 'Values follow their rules (type, pattern, range, allowed values): share not quarantined.'),
    ('accuracy', 0.150, 'Values agree with the source or a trusted reference: reconciled row counts and checksums.'),
    ('consistency', 0.100, 'Values agree across layers and tables: referential integrity and explore/chart/navigate balance.');

INSERT INTO compliance.classification_levels
    (level_name, sensitivity_rank, requires_encryption, requires_masking, description) VALUES
    ('public', 1, false, false, 'May be published: no harm if disclosed.'),
    ('internal', 2, false, false, 'For employees only; no personal data. The default of a column.'),
    ('confidential', 3, false, true, 'Personal or business-sensitive data (names, contact details); masked in navigate.'),
    ('restricted', 4, true, true, 'Disclosure causes serious harm (financial and national identifiers, dates of birth); encrypted and masked.'),
    ('special_category', 5, true, true, 'GDPR Art. 9 special categories (health, biometrics, beliefs …); encrypted, masked, access audited.');

-- Regexes are Python `re` syntax (Presidio PatternRecognizer), dollar-quoted so that no
-- backslash is ever interpreted by SQL.
INSERT INTO compliance.pii_patterns
    (pattern_name, presidio_entity, regex, score, context_words, classification, example, description) VALUES
    ('email_address', 'EMAIL_ADDRESS',
     $re$\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b$re$,
     0.85, '{email,e-mail,mail}', 'confidential', 'jane.doe@example.com',
     'An e-mail address.'),
    ('phone_number', 'PHONE_NUMBER',
     $re$(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}[ .-]?\d{3,4}[ .-]?\d{3,4}(?!\w)$re$,
     0.40, '{phone,telephone,tel,mobile,cell,fax}', 'confidential', '+44 20 7946 0958',
     'A phone number, international or national; low base score: ids and SKUs look alike, context raises it.'),
    ('person_with_title', 'PERSON',
     $re$\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?\b$re$,
     0.60, '{name,customer,contact,patient}', 'confidential', 'Dr. Jane Smith',
     'A name after a title; names without one are found by the NLP model.'),
    ('street_address', 'LOCATION',
     $re$\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Way|Court|Ct|Place|Square)\b\.?$re$,
     0.50, '{address,street,addr,residence}', 'confidential', '221 Baker Street',
     'A street address with a house number.'),
    ('date_of_birth', 'DATE_TIME',
     $re$\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b$re$,
     0.20, '{birth,born,dob,birthday}', 'restricted', '1984-07-21',
     'An ISO date; personal only with birth context, hence the low base score.'),
    ('credit_card', 'CREDIT_CARD',
     $re$\b(?:4\d{3}|5[1-5]\d{2}|6011|3[47]\d{2})[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,4}\b$re$,
     0.30, '{card,credit,visa,mastercard,amex,payment}', 'restricted', '4111 1111 1111 1111',
     'A payment card number (Visa, Mastercard, Amex, Discover); confirm with the Luhn checksum.'),
    ('iban', 'IBAN_CODE',
     $re$\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b$re$,
     0.50, '{iban,bank,account}', 'restricted', 'GB82 WEST 1234 5698 7654 32',
     'An International Bank Account Number; confirm with the mod-97 checksum.'),
    ('ipv4_address', 'IP_ADDRESS',
     $re$\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b$re$,
     0.60, '{ip,address,client,host}', 'confidential', '203.0.113.42',
     'An IPv4 address: personal data when it identifies a device.'),
    ('us_ssn', 'US_SSN',
     $re$\b(?!000|666|9\d{2})\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b$re$,
     0.50, '{ssn,social,security}', 'restricted', '536-90-4399',
     'A US Social Security number in its dashed form.'),
    ('uk_nhs_number', 'UK_NHS',
     $re$\b\d{3}[ -]?\d{3}[ -]?\d{4}\b$re$,
     0.30, '{nhs,patient,health,medical}', 'special_category', '943 476 5919',
     'A UK NHS number: identifies a patient, so health data; confirm with the mod-11 checksum.');
